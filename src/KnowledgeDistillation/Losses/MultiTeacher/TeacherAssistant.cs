using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Losses;

public static partial class Recipes
{
    /// <summary>
    /// Teacher-assistant KD (TAKD; Mirzadeh, Farajtabar, Li, Levine, Matsukawa and Ghasemzadeh, AAAI 2020, arXiv 1902.03393):
    /// a mid-sized assistant bridges the gap between a large teacher and a small student. Stage "assistant" trains only the
    /// assistant by <see cref="Loss.Hinton"/> from the teacher; stage "student" then trains only
    /// the student by the same objective from the assistant, which now runs frozen (evaluation mode, no gradient) as its teacher.
    /// Give the assistant as a <see cref="Student"/> participant (trainable): the stages' <c>Trainable</c> lists decide who learns.
    /// For a longer chain (teacher → TA1 → TA2 → student), see the overload with a list of assistants.
    /// </summary>
    /// <param name="assistantEpochs">Epochs of the assistant stage, &gt;= 1.</param>
    /// <param name="studentEpochs">Epochs of the student stage; null uses <c>DistillerOptions.Epochs</c>.</param>
    /// <param name="temperature">Softmax temperature of both KD stages (a number or a schedule).</param>
    /// <param name="alpha">Weight of the KD term in both stages, in [0, 1].</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="assistant">The assistant's participant name.</param>
    /// <param name="student">The student's participant name.</param>
    public static DistillationRecipe TeacherAssistant(
        int assistantEpochs,
        int? studentEpochs = null,
        double temperature = 4.0,
        double alpha = 0.9,
        string teacher = "teacher",
        string assistant = "assistant",
        string student = "student") =>
        TeacherAssistant(new[] { assistant }, new[] { assistantEpochs }, studentEpochs, temperature, alpha, teacher, student);

    /// <summary>
    /// TAKD with a chain of assistants (the paper's Section 5, e.g. teacher → TA1 → TA2 → student): stage k trains assistant k
    /// from the previous link (the teacher for the first), each with <see cref="Loss.Hinton"/>;
    /// the last stage, "student", trains the student from the last assistant. Stage names: "assistant" for one assistant, else
    /// the assistants' names.
    /// </summary>
    /// <param name="assistants">The assistants' participant names, from the largest to the smallest; at least one, distinct.</param>
    /// <param name="assistantEpochs">Epochs of each assistant's stage (one per assistant, each &gt;= 1).</param>
    /// <param name="studentEpochs">Epochs of the student stage; null uses <c>DistillerOptions.Epochs</c>.</param>
    /// <param name="temperature">Softmax temperature of every KD stage.</param>
    /// <param name="alpha">Weight of the KD term in every stage, in [0, 1].</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="student">The student's participant name.</param>
    /// <exception cref="ArgumentException">No assistant, repeated names, a name shared with the teacher or student, or the epoch list's length differs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An epoch count is below 1.</exception>
    public static DistillationRecipe TeacherAssistant(
        IReadOnlyList<string> assistants,
        IReadOnlyList<int> assistantEpochs,
        int? studentEpochs = null,
        double temperature = 4.0,
        double alpha = 0.9,
        string teacher = "teacher",
        string student = "student")
    {
        ArgumentNullException.ThrowIfNull(assistants);
        ArgumentNullException.ThrowIfNull(assistantEpochs);
        var chain = assistants.Select(a => Guard.Name(a, nameof(assistants))).Prepend(Guard.Name(teacher, nameof(teacher))).Append(Guard.Name(student, nameof(student))).ToArray();
        if (assistants.Count == 0)
        {
            throw new ArgumentException("TAKD needs at least one assistant.", nameof(assistants));
        }

        if (chain.Distinct(StringComparer.Ordinal).Count() != chain.Length)
        {
            throw new ArgumentException($"The chain's participants must be distinct; got {string.Join(" -> ", chain)}.", nameof(assistants));
        }

        if (assistantEpochs.Count != assistants.Count)
        {
            throw new ArgumentException($"assistantEpochs needs one count per assistant ({assistants.Count}); got {assistantEpochs.Count}.", nameof(assistantEpochs));
        }

        var bad = assistantEpochs.FirstOrDefault(e => e < 1, 1);
        if (bad < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(assistantEpochs), bad, "Each assistant stage needs at least one epoch.");
        }

        if (studentEpochs is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(studentEpochs), studentEpochs, "The student stage needs at least one epoch (or null for the run's default).");
        }

        var stages = new List<DistillationStage>();
        for (var k = 0; k < assistants.Count; k++)
        {
            var stageName = assistants.Count == 1 ? "assistant" : assistants[k];
            stages.Add(new DistillationStage(stageName, Loss.Hinton(temperature, alpha, student: chain[k + 1], teacher: chain[k]))
            {
                Epochs = assistantEpochs[k],
                Trainable = new[] { chain[k + 1] },
            });
        }

        stages.Add(new DistillationStage("student", Loss.Hinton(temperature, alpha, student: student, teacher: chain[^2]))
        {
            Epochs = studentEpochs,
            Trainable = new[] { student },
        });
        return new DistillationRecipe("takd", stages);
    }
}
