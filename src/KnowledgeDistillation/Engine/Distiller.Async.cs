using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Engine;

/// <content>Asynchronous entry points: <see cref="FitAsync"/> and <see cref="ResumeAsync"/>.</content>
public sealed partial class Distiller
{
    /// <summary>
    /// Runs <see cref="Fit"/> on a dedicated background thread and completes with its result, so a UI or a service
    /// stays responsive while training.
    /// </summary>
    /// <remarks>
    /// <para>Thread affinity: the whole run (every step, evaluation, checkpoint, <see cref="Callbacks"/>, loss hooks and
    /// logging through the <c>ILogger</c>) executes on that one background thread, not on the caller's. <see cref="Progress"/>
    /// is reported from it too: a <see cref="Progress{T}"/> created on a thread with a <see cref="SynchronizationContext"/>
    /// (a UI thread) posts its handler back to that thread, otherwise the handler runs on the thread pool. TorchSharp's
    /// gradient mode and dispose scopes are per thread, so the run is unaffected by the caller's; do not use the
    /// participants' modules from another thread until the task completes.</para>
    /// <para>Cancellation is checked at every step boundary, as in <see cref="Fit"/> (a checkpoint is written when
    /// <see cref="DistillerOptions.Checkpoint"/> is set); the task then ends as canceled. A token canceled before the
    /// start cancels the task without training.</para>
    /// </remarks>
    /// <param name="train">Training batches.</param>
    /// <param name="evaluation">Evaluation batches, or <c>null</c> to skip evaluation.</param>
    /// <param name="cancellationToken">Stops the run at the next step boundary.</param>
    /// <returns>The per-epoch history.</returns>
    public Task<FitResult> FitAsync(IBatchSource train, IBatchSource? evaluation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Background(() => Fit(train, evaluation, cancellationToken), cancellationToken);
    }

    /// <summary>Runs <see cref="Resume"/> on a dedicated background thread (thread affinity and cancellation as in <see cref="FitAsync"/>).</summary>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="train">Training batches (the same source as the interrupted run).</param>
    /// <param name="evaluation">Evaluation batches, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops the run at the next step boundary.</param>
    /// <returns>The whole history, the checkpoint's epochs included.</returns>
    public Task<FitResult> ResumeAsync(string checkpointPath, IBatchSource train, IBatchSource? evaluation = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        ArgumentNullException.ThrowIfNull(train);
        return Background(() => Resume(checkpointPath, train, evaluation, cancellationToken), cancellationToken);
    }

    private static Task<FitResult> Background(Func<FitResult> run, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(run, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
