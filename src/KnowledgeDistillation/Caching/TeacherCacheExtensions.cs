namespace KnowledgeDistillation.Caching;

/// <summary>Fluent helpers for teacher output caching.</summary>
public static class TeacherCacheExtensions
{
    /// <summary>Wraps a frozen teacher in a <see cref="CachedTeacher"/> for data of <paramref name="sampleCount"/> samples.</summary>
    /// <param name="teacher">The frozen teacher.</param>
    /// <param name="sampleCount">The number of training samples.</param>
    /// <param name="options">Storage and verification settings.</param>
    public static CachedTeacher WithOutputCache(this ITeacher teacher, long sampleCount, TeacherCacheOptions? options = null) =>
        new(teacher, sampleCount, options);
}
