using FluentAssertions;
using KnowledgeDistillation.Graph.Recommendation;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Recommendation;

public sealed class InteractionDataTests
{
    private const string Csv = """
        userId,movieId,rating,timestamp
        10,a,5,100
        10,b,2,101
        20,b,4,50
        10,c,4.5,99
        20,a,1,40
        30,c,3,10
        20,b,5,20
        """;

    private static InteractionData Read(string text, InteractionReaderOptions? options = null) => InteractionReader.Read(new StringReader(text), options);

    [Fact]
    public void Reads_columns_by_name_with_threshold_remaps_ids_and_keeps_the_earliest_duplicate()
    {
        var data = Read(Csv, new InteractionReaderOptions { PositiveThreshold = 4 });
        data.UserIds.Should().Equal("10", "20");
        data.ItemIds.Should().Equal("a", "b", "c");
        data.Interactions.Should().Equal(new Interaction(0, 0, 100), new Interaction(1, 1, 20), new Interaction(0, 2, 99));
        var any = Read(Csv);
        any.UserCount.Should().Be(3);
        any.Interactions.Should().HaveCount(6);
        // Columns in another order and with other names.
        var other = Read("t;item;who\n5;x;u1\n3;y;u1\n", new InteractionReaderOptions
        {
            UserColumn = "who", ItemColumn = "item", RatingColumn = null, TimestampColumn = "t", Separator = ';',
        });
        other.Interactions.Should().Equal(new Interaction(0, 0, 5), new Interaction(0, 1, 3));
    }

    [Fact]
    public void Bad_files_give_clear_errors()
    {
        var unknown = () => Read(Csv, new InteractionReaderOptions { ItemColumn = "itemId" });
        unknown.Should().Throw<ArgumentException>().WithMessage("*'itemId' (ItemColumn) is not in the header*'userId', 'movieId', 'rating', 'timestamp'*");
        var noRating = () => Read(Csv, new InteractionReaderOptions { RatingColumn = null, PositiveThreshold = 4 });
        noRating.Should().Throw<ArgumentException>().WithMessage("*needs a RatingColumn*");
        var fields = () => Read("userId,movieId,rating,timestamp\n1,2,3\n");
        fields.Should().Throw<InvalidDataException>().WithMessage("*line 2: 3 fields, the header has 4*");
        var number = () => Read("userId,movieId,rating,timestamp\n1,2,x,4\n", new InteractionReaderOptions { PositiveThreshold = 1 });
        number.Should().Throw<InvalidDataException>().WithMessage("*line 2: rating 'x' is not a number*");
        var none = () => Read(Csv, new InteractionReaderOptions { PositiveThreshold = 6 });
        none.Should().Throw<InvalidDataException>().WithMessage("*no positive interaction*");
        var empty = () => Read("");
        empty.Should().Throw<InvalidDataException>().WithMessage("*empty*");
    }

    [Fact]
    public void Random_split_is_80_20_per_user_deterministic_and_keeps_a_training_item()
    {
        var rows = new List<Interaction>();
        for (var u = 0; u < 4; u++)
        {
            for (var i = 0; i < 10 * (u + 1); i += 2)
            {
                rows.Add(new Interaction(u, i, i));
            }
        }
        rows.Add(new Interaction(4, 3, 0)); // a user with one interaction
        var data = new InteractionData(rows, Enumerable.Range(0, 5).Select(x => $"u{x}").ToArray(), Enumerable.Range(0, 40).Select(x => $"i{x}").ToArray());
        var a = InteractionSplit.RandomPerUser(data, 0.2, seed: 1);
        var b = InteractionSplit.RandomPerUser(data, 0.2, seed: 1);
        var c = InteractionSplit.RandomPerUser(data, 0.2, seed: 2);
        for (var u = 0; u < 4; u++)
        {
            var n = 5 * (u + 1);
            a.TestItems[u].Should().HaveCount((int)Math.Round(n * 0.2, MidpointRounding.AwayFromZero));
            a.TrainItems[u].Concat(a.TestItems[u]).Order().Should().Equal(Enumerable.Range(0, n).Select(x => 2 * x));
            a.TestItems[u].Should().Equal(b.TestItems[u]);
        }
        a.TestItems.SelectMany(x => x).Should().NotEqual(c.TestItems.SelectMany(x => x));
        a.TrainItems[4].Should().Equal(3);
        a.TestItems[4].Should().BeEmpty();
        var bad = () => InteractionSplit.RandomPerUser(data, 1.0);
        bad.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "testFraction");
    }

    [Fact]
    public void Leave_last_out_uses_timestamps_and_an_all_single_dataset_has_an_empty_test_split()
    {
        var data = Read(Csv, new InteractionReaderOptions { PositiveThreshold = 4 });
        var split = InteractionSplit.LeaveLastOut(data);
        split.TestItems[0].Should().Equal(0); // item a at t=100 is user 10's latest
        split.TrainItems[0].Should().Equal(2);
        split.TestItems[1].Should().BeEmpty(); // user 20 has one positive
        split.TrainItems[1].Should().Equal(1);
        var single = new InteractionData(new[] { new Interaction(0, 0, 1), new Interaction(1, 1, 1) }, new[] { "a", "b" }, new[] { "x", "y" });
        var empty = () => InteractionSplit.LeaveLastOut(single);
        empty.Should().Throw<ArgumentException>().WithMessage("*test split is empty*");
    }

    [Fact]
    public void Bpr_sampler_never_samples_a_training_positive_and_is_a_function_of_seed_and_epoch()
    {
        var train = new[] { new[] { 0, 1, 2, 3, 4, 5, 6, 7 }, new[] { 1 }, new[] { 2, 3 } };
        var split = InteractionSplit.FromLists(10, train, new[] { new[] { 8 }, new[] { 0 }, Array.Empty<int>() });
        var source = new BprBatchSource(split, batchSize: 4, seed: 3);
        var seen = new HashSet<long>();
        for (var epoch = 0; epoch < 50; epoch++)
        {
            var triples = source.Triples(epoch, out _);
            for (var n = 0; n < triples.Length / 3; n++)
            {
                var u = (int)triples[3 * n];
                train[u].Should().Contain((int)triples[3 * n + 1]);
                train[u].Should().NotContain((int)triples[3 * n + 2]);
                if (u == 0)
                {
                    seen.Add(triples[3 * n + 2]);
                }
            }
        }
        seen.Should().BeEquivalentTo(new long[] { 8, 9 }, "user 0's only negatives are items 8 and 9 (its test item 8 may be a negative)");
        source.Triples(4, out var i1).Should().Equal(new BprBatchSource(split, 4, seed: 3).Triples(4, out var i2));
        i1.Should().Equal(i2);
        source.Triples(5, out _).Should().NotEqual(source.Triples(4, out _));
        var batches = source.GetBatches(0, CPU).ToList();
        batches.Should().HaveCount(3);
        batches[2].Inputs.shape.Should().Equal(3, 3);
        var full = () => new BprBatchSource(InteractionSplit.FromLists(2, new[] { new[] { 0, 1 }, new[] { 0 } }, new[] { Array.Empty<int>(), new[] { 1 } }));
        full.Should().Throw<ArgumentException>().WithMessage("*User 0 has all 2 items*");
    }
}
