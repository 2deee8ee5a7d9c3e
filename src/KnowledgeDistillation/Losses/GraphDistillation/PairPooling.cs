namespace KnowledgeDistillation.Losses;

/// <summary>How the representation graph fuses two teachers' features into an edge (see <see cref="RepresentationGraph"/>).</summary>
public enum PairPooling
{
    /// <summary>Tensor Sketch compact bilinear pooling (<see cref="CompactBilinearPooling.Pool"/>), Zhang and Peng's choice.</summary>
    CompactBilinear,

    /// <summary>The two L2-normalised features concatenated and L2-normalised again (a cheap baseline).</summary>
    Concatenation,
}
