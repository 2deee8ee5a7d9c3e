using KnowledgeDistillation.Data;
using KnowledgeDistillation.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// Offline distillation: wraps a frozen teacher and computes its outputs (logits and every feature it
/// returns) once per sample index, serving them from memory or a memory-mapped file afterwards, so later
/// epochs cost only the student's work. The cache knows what it is valid for: the teacher's weights (a
/// fingerprint checked when a disk cache is reopened), the sample count, the outputs, and a fingerprint
/// of every sample's input, so a different dataset or a random augmentation is refused with a clear
/// message instead of silently served stale outputs. The outputs live in the engine's per-sample storage
/// (<see cref="ISampleStore"/>): fields "logits", "feature:NAME" and the float64 "input-fingerprint".
/// </summary>
public sealed class CachedTeacher : ITeacher
{
    private readonly ITeacher _teacher;
    private readonly TeacherCacheOptions _options;
    private readonly long _sampleCount;
    private const string LogitsField = "logits";
    private const string FeaturePrefix = "feature:";
    private const string FingerprintField = "input-fingerprint";

    private readonly ISampleStore _store;
    private HashSet<string>? _kept;
    private Tensor? _projection;

    /// <summary>Wraps <paramref name="teacher"/>.</summary>
    /// <param name="teacher">A frozen teacher (not owned).</param>
    /// <param name="sampleCount">The number of samples of the training data (sample indices are 0..count-1).</param>
    /// <param name="options">Storage and verification settings.</param>
    /// <exception cref="ArgumentException">The teacher is trainable, the count is not positive, or a disk cache has no path.</exception>
    /// <exception cref="InvalidDataException">
    /// An existing disk cache file is corrupted or outdated (see <see cref="DiskSampleStore"/>), or holds fields a teacher
    /// cache never writes; the message names the file and the field. Reading a cached row whose bytes were altered
    /// later throws it from <see cref="Forward"/>, naming the sample.
    /// </exception>
    /// <exception cref="InvalidOperationException">An existing disk cache was made by another teacher or for another sample count.</exception>
    public CachedTeacher(ITeacher teacher, long sampleCount, TeacherCacheOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        if (teacher.IsTrainable)
        {
            throw new ArgumentException($"Teacher '{teacher.Name}' is trainable; only a frozen teacher's outputs can be cached.", nameof(teacher));
        }

        if (sampleCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleCount), sampleCount, "The sample count must be >= 1.");
        }

        _teacher = teacher;
        _sampleCount = sampleCount;
        _options = options ?? new TeacherCacheOptions();
        TeacherFingerprint = ModuleFingerprint.Compute(teacher.Module);
        _store = _options.Storage switch
        {
            TeacherCacheStorage.Disk => new DiskSampleStore(
                _options.FilePath ?? throw new ArgumentException("A disk cache needs TeacherCacheOptions.FilePath.", nameof(options)),
                sampleCount,
                TeacherFingerprint,
                "it was made by a teacher with different weights, and a cache never serves another teacher's outputs"),
            _ => new MemorySampleStore(sampleCount, teacher.Module.parameters().FirstOrDefault()?.device ?? CPU),
        };
        if (_store.Fields is { } stored)
        {
            try
            {
                CheckStoredFields(stored, _options.FilePath);
            }
            catch
            {
                _store.Dispose();
                throw;
            }
        }
    }

    /// <inheritdoc />
    public string Name => _teacher.Name;

    /// <summary>The wrapped teacher (for views that must run it on samples the cache does not hold, such as evaluation).</summary>
    internal ITeacher Inner => _teacher;

    /// <summary>Whether the cache refuses samples whose inputs changed since they were cached (inputs are verified and changes are not allowed).</summary>
    internal bool RefusesChangedInputs => _options.VerifyInputs && !_options.AllowChangedInputs;

    /// <inheritdoc />
    public nn.Module Module => _teacher.Module;

    /// <inheritdoc />
    public bool IsTrainable => false;

    /// <summary>The SHA-256 of the teacher's weights this cache is valid for.</summary>
    public string TeacherFingerprint { get; }

    /// <summary>Samples whose outputs are cached.</summary>
    public long CachedSamples => _store.FilledCount;

    /// <summary>Batches served entirely from the cache.</summary>
    public long Hits { get; private set; }

    /// <summary>Batches for which the teacher ran.</summary>
    public long Misses { get; private set; }

    /// <summary>The wrapped teacher's features.</summary>
    public IReadOnlyCollection<string>? AvailableFeatures => _teacher.AvailableFeatures;

    /// <summary>
    /// The features kept in the cache: <c>null</c> (every feature the teacher returns) until the engine passes the
    /// losses' declarations through <see cref="CaptureFeatures"/>; then exactly those (plus the logits).
    /// </summary>
    public IReadOnlyCollection<string>? KeptFeatures => _kept;

    /// <summary>Has the wrapped teacher produce <paramref name="features"/>, and keeps exactly those (plus the logits) in the cache.</summary>
    /// <param name="features">Feature names the losses declare for this teacher.</param>
    public void CaptureFeatures(IReadOnlyCollection<string> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        _teacher.CaptureFeatures(features);
        _kept = (_kept ?? new HashSet<string>(StringComparer.Ordinal)).Union(features).ToHashSet(StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public ModelOutput Forward(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var indices = batch.Indices.cpu().data<long>().ToArray();
        foreach (var index in indices)
        {
            if (index < 0 || index >= _sampleCount)
            {
                throw new ArgumentException($"Sample index {index} is outside the cache's 0..{_sampleCount - 1}; the cache was sized for other data.", nameof(batch));
            }
        }

        var fingerprints = _options.VerifyInputs ? InputFingerprints(batch.Inputs) : zeros(new long[] { indices.Length, 2 }, ScalarType.Float64, batch.Inputs.device);
        var filled = _store.Fields is null ? new bool[indices.Length] : _store.Contains(batch.Indices).cpu().data<bool>().ToArray();
        var verify = _options.VerifyInputs && !_options.AllowChangedInputs && _store.Fields is not null;
        if (filled.All(f => f))
        {
            // One read serves both the outputs and the stored input fingerprints (the last field).
            Hits++;
            var cached = _store.Read(batch.Indices, batch.Inputs.device);
            if (verify)
            {
                CheckUnchanged(indices, cached[^1], fingerprints);
            }

            return ToOutput(cached);
        }

        if (verify)
        {
            VerifyCachedSubset(indices, filled, batch, fingerprints);
        }

        Misses++;
        var output = _teacher.Forward(batch);
        var (fields, rows) = Flatten(output, fingerprints, _kept);
        _store.Initialize(fields);
        var missing = Enumerable.Range(0, indices.Length).Where(p => !filled[p]).Select(p => (long)p).ToArray();
        var positions = tensor(missing, ScalarType.Int64, batch.Inputs.device);
        var missingIndices = tensor(missing.Select(p => indices[p]).ToArray(), ScalarType.Int64);
        _store.Write(missingIndices, rows.Select(r => r.index_select(0, positions)).ToArray());
        return _kept is null ? output : new ModelOutput(output.Logits, output.Features.Where(f => _kept.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value));
    }

    /// <summary>Releases the cache (the teacher is not owned and stays usable).</summary>
    public void Dispose()
    {
        _store.Dispose();
        _projection?.Dispose();
    }

    /// <summary>
    /// Checks that a reopened store holds what <see cref="Flatten"/> writes: "logits" (first) and "feature:NAME" rows in
    /// float32, then the float64 [2] input fingerprints last.
    /// </summary>
    private static void CheckStoredFields(IReadOnlyList<SampleField> fields, string? path)
    {
        var last = fields[^1];
        if (last.Name != FingerprintField || last.ElementType != ScalarType.Float64 || !last.RowShape.SequenceEqual(new long[] { 2 }))
        {
            throw new InvalidDataException(
                $"The teacher cache '{path}' ends with field '{last}'; expected '{FingerprintField} [2] Float64'. The file was altered or written by something else: delete it.");
        }

        for (var f = 0; f < fields.Count - 1; f++)
        {
            var field = fields[f];
            var known = (f == 0 && field.Name == LogitsField) || (field.Name.StartsWith(FeaturePrefix, StringComparison.Ordinal) && field.Name.Length > FeaturePrefix.Length);
            if (!known || field.ElementType != ScalarType.Float32)
            {
                throw new InvalidDataException(
                    $"The teacher cache '{path}' holds field {f} '{field}', which a teacher cache never writes; expected '{LogitsField}' (first) or " +
                    $"'{FeaturePrefix}NAME', in Float32. The file was altered or written by something else: delete it.");
            }
        }
    }

    private void VerifyCachedSubset(long[] indices, bool[] filled, Batch batch, Tensor fingerprints)
    {
        var cached = Enumerable.Range(0, indices.Length).Where(p => filled[p]).Select(p => (long)p).ToArray();
        if (cached.Length == 0)
        {
            return;
        }

        var device = batch.Inputs.device;
        var cachedIndices = cached.Select(p => indices[p]).ToArray();
        var stored = _store.Read(tensor(cachedIndices, ScalarType.Int64), device)[^1];
        CheckUnchanged(cachedIndices, stored, fingerprints.index_select(0, tensor(cached, ScalarType.Int64, device)));
    }

    /// <summary>Throws when a sample's current input fingerprint differs from the one stored with its outputs.</summary>
    private void CheckUnchanged(long[] cachedIndices, Tensor stored, Tensor current)
    {
        var differs = (stored - current).abs().gt(current.abs() * 1e-6 + 1e-9).any(1);
        if (differs.any().item<bool>())
        {
            var changed = differs.cpu().data<bool>().ToArray();
            var examples = cachedIndices.Where((_, i) => changed[i]).Take(5);
            throw new InvalidOperationException(
                $"The inputs of sample(s) {string.Join(", ", examples)} differ from those teacher '{Name}' saw when its outputs were cached: " +
                "the data changed, or a random augmentation is applied. Use a cache per dataset, remove the augmentation for the teacher, " +
                "or set TeacherCacheOptions.AllowChangedInputs to distil from the outputs of the first-seen inputs.");
        }
    }

    /// <summary>Two fixed pseudo-random projections of each flattened input, in float64 (independent of TorchSharp's RNG).</summary>
    private Tensor InputFingerprints(Tensor inputs)
    {
        var flat = inputs.detach().reshape(inputs.shape[0], -1).to(ScalarType.Float64);
        var width = flat.shape[1];
        if (_projection is null || _projection.shape[0] != width || _projection.device_type != flat.device_type)
        {
            _projection?.Dispose();
            var values = new double[width * 2];
            var state = 0x5DEECE66DUL;
            for (var i = 0; i < values.Length; i++)
            {
                state = (state * 6364136223846793005UL) + 1442695040888963407UL;
                values[i] = ((state >> 11) * (1.0 / (1UL << 53))) - 0.5;
            }

            _projection = tensor(values, new[] { width, 2L }).to(flat.device).DetachFromDisposeScope();
        }

        return flat.matmul(_projection);
    }

    private static (IReadOnlyList<SampleField> Fields, Tensor[] Rows) Flatten(ModelOutput output, Tensor fingerprints, IReadOnlySet<string>? kept)
    {
        var fields = new List<SampleField>();
        var rows = new List<Tensor>();
        if (output.Logits is { } logits)
        {
            fields.Add(new SampleField(LogitsField, logits.shape.Skip(1).ToArray()));
            rows.Add(logits);
        }

        foreach (var (name, value) in output.Features.Where(f => kept is null || kept.Contains(f.Key)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            fields.Add(new SampleField(FeaturePrefix + name, value.shape.Skip(1).ToArray()));
            rows.Add(value);
        }

        fields.Add(new SampleField(FingerprintField, new long[] { 2 }, ScalarType.Float64));
        rows.Add(fingerprints);
        return (fields, rows.ToArray());
    }

    private ModelOutput ToOutput(Tensor[] rows)
    {
        Tensor? logits = null;
        var features = new Dictionary<string, Tensor>();
        for (var f = 0; f < rows.Length - 1; f++)
        {
            var field = _store.Fields![f];
            if (field.Name == LogitsField)
            {
                logits = rows[f];
            }
            else
            {
                features[field.Name[FeaturePrefix.Length..]] = rows[f];
            }
        }

        return new ModelOutput(logits, features);
    }
}
