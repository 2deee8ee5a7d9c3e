using Xunit;

// Serial: the memory test reads the process-wide live tensor count, and the training tests seed the global generator.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
