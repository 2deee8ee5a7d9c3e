namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// A train/test split of <see cref="InteractionData"/> per user. Every user keeps at least one training interaction; a
/// user with a single interaction has no test item (the evaluation skips such users and reports how many it skipped).
/// </summary>
public sealed class InteractionSplit
{
    private InteractionSplit(int userCount, int itemCount, int[][] train, int[][] test)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        TrainItems = train;
        TestItems = test;
        TrainCount = train.Sum(t => t.Length);
        TestCount = test.Sum(t => t.Length);
        if (TestCount == 0)
        {
            throw new ArgumentException(
                "The test split is empty: every user has a single positive interaction, which stays in training.", "data");
        }
    }

    /// <summary>Number of users (dense ids).</summary>
    public int UserCount { get; }

    /// <summary>Number of items (dense ids).</summary>
    public int ItemCount { get; }

    /// <summary>Each user's training items, ascending.</summary>
    public IReadOnlyList<int[]> TrainItems { get; }

    /// <summary>Each user's test items, ascending (empty for users with a single interaction).</summary>
    public IReadOnlyList<int[]> TestItems { get; }

    /// <summary>Number of training interactions.</summary>
    public int TrainCount { get; }

    /// <summary>Number of test interactions.</summary>
    public int TestCount { get; }

    /// <summary>
    /// Random split per user: <c>round(n * testFraction)</c> of each user's n items go to test, at most n - 1; drawn with
    /// <c>System.Random(seed)</c> over users in id order, so the split is a pure function of the data and the seed.
    /// </summary>
    /// <param name="data">The interactions.</param>
    /// <param name="testFraction">In (0, 1); default 0.2 (80/20).</param>
    /// <param name="seed">The seed.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> outside (0, 1).</exception>
    /// <exception cref="ArgumentException">The test split would be empty.</exception>
    public static InteractionSplit RandomPerUser(InteractionData data, double testFraction = 0.2, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "testFraction must be in (0, 1).");
        }
        var perUser = ItemsPerUser(data);
        var random = new Random(seed);
        var train = new int[data.UserCount][];
        var test = new int[data.UserCount][];
        for (var u = 0; u < data.UserCount; u++)
        {
            var items = perUser[u].Select(x => x.Item).ToArray();
            random.Shuffle(items);
            var n = items.Length;
            var k = Math.Min(n - 1, (int)Math.Round(n * testFraction, MidpointRounding.AwayFromZero));
            test[u] = items.Take(k).Order().ToArray();
            train[u] = items.Skip(k).Order().ToArray();
        }
        return new InteractionSplit(data.UserCount, data.ItemCount, train, test);
    }

    /// <summary>
    /// Leave-last-out: each user's latest interaction (largest timestamp; ties: the one read last) is the test item, the rest
    /// are training items. Users with one interaction keep it in training.
    /// </summary>
    /// <param name="data">The interactions.</param>
    /// <exception cref="ArgumentException">The test split would be empty.</exception>
    public static InteractionSplit LeaveLastOut(InteractionData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var perUser = ItemsPerUser(data);
        var train = new int[data.UserCount][];
        var test = new int[data.UserCount][];
        for (var u = 0; u < data.UserCount; u++)
        {
            var list = perUser[u];
            if (list.Count < 2)
            {
                train[u] = list.Select(x => x.Item).ToArray();
                test[u] = Array.Empty<int>();
                continue;
            }
            var last = 0;
            for (var i = 1; i < list.Count; i++)
            {
                if (list[i].Timestamp >= list[last].Timestamp)
                {
                    last = i;
                }
            }
            test[u] = new[] { list[last].Item };
            train[u] = list.Where((_, i) => i != last).Select(x => x.Item).Order().ToArray();
        }
        return new InteractionSplit(data.UserCount, data.ItemCount, train, test);
    }

    /// <summary>Creates a split from explicit per-user item lists (for tests and custom protocols).</summary>
    /// <param name="itemCount">Number of items.</param>
    /// <param name="train">Each user's training items.</param>
    /// <param name="test">Each user's test items (same user count).</param>
    /// <exception cref="ArgumentException">Counts differ, an item outside [0, itemCount), a test item that is also a training item, a user without training items, or an empty test split.</exception>
    public static InteractionSplit FromLists(int itemCount, IReadOnlyList<int[]> train, IReadOnlyList<int[]> test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, 1);
        if (train.Count != test.Count || train.Count == 0)
        {
            throw new ArgumentException($"train and test must list the same number of users (> 0); got {train.Count} and {test.Count}.", nameof(test));
        }
        for (var u = 0; u < train.Count; u++)
        {
            if (train[u].Length == 0)
            {
                throw new ArgumentException($"User {u} has no training item.", nameof(train));
            }
            var set = new HashSet<int>(train[u]);
            foreach (var i in train[u].Concat(test[u]))
            {
                if ((uint)i >= (uint)itemCount)
                {
                    throw new ArgumentException($"User {u} has item {i} outside [0, {itemCount}).", nameof(train));
                }
            }
            if (test[u].Any(set.Contains))
            {
                throw new ArgumentException($"User {u} has an item in both training and test.", nameof(test));
            }
        }
        return new InteractionSplit(
            train.Count, itemCount, train.Select(t => t.Distinct().Order().ToArray()).ToArray(), test.Select(t => t.Distinct().Order().ToArray()).ToArray());
    }

    private static List<Interaction>[] ItemsPerUser(InteractionData data)
    {
        var perUser = new List<Interaction>[data.UserCount];
        for (var u = 0; u < perUser.Length; u++)
        {
            perUser[u] = new List<Interaction>();
        }
        foreach (var x in data.Interactions)
        {
            perUser[x.User].Add(x);
        }
        return perUser;
    }
}
