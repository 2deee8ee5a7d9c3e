namespace KnowledgeDistillation.Tuning;

/// <summary>The full cartesian product of the parameters' grids, the last-declared parameter varying fastest.</summary>
internal sealed class GridTrialGenerator : TrialGenerator
{
    private readonly long[] _sizes;

    public GridTrialGenerator(IReadOnlyList<SearchParameter> parameters, int seed)
        : base(parameters, seed)
    {
        _sizes = new long[parameters.Count];
        long total = 1;
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            _sizes[i] = parameter.GridSize ?? throw new ArgumentException(
                $"Parameter '{parameter.Name}' ({parameter}) has no finite grid: grid search needs an explicit number of grid points for a "
                + $"continuous parameter. Declare it with gridPoints (e.g. .{Method(parameter)}(\"{parameter.Name}\", low, high, gridPoints: 5)), "
                + "list its values with .Categorical, or use SearchStrategy.Random.",
                "space");
            total = total > int.MaxValue / _sizes[i] ? long.MaxValue : total * _sizes[i];
            if (total > int.MaxValue)
            {
                throw new ArgumentException(
                    $"The grid has more than {int.MaxValue} configurations (parameter '{parameter.Name}' has {_sizes[i]} points); use fewer grid points or random search.",
                    "space");
            }
        }

        Capacity = (int)total;
    }

    /// <inheritdoc />
    public override int Capacity { get; }

    /// <inheritdoc />
    protected override object[] Values(int index)
    {
        var values = new object[_sizes.Length];
        long rest = index;
        for (var i = _sizes.Length - 1; i >= 0; i--)
        {
            values[i] = Parameters[i].GridValue(rest % _sizes[i]);
            rest /= _sizes[i];
        }

        return values;
    }

    private static string Method(SearchParameter parameter) => parameter switch
    {
        LogUniformParameter => "LogUniform",
        _ => "Uniform",
    };
}
