using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>A callback that cancels its token once the run it is attached to has finished <c>steps</c> steps.</summary>
internal sealed class CancelAfterSteps(CancellationTokenSource source, int steps) : IDistillationCallback
{
    /// <summary>Steps seen so far.</summary>
    public int Steps { get; private set; }

    public void OnStepEnd(StepInfo step)
    {
        Steps++;
        if (Steps == steps)
        {
            source.Cancel();
        }
    }
}
