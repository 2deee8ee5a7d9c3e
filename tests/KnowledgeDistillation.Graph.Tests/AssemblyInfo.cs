using Xunit;

// The suite takes seconds; running it serially keeps the global native tensor count (NativeMemoryTests) meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
