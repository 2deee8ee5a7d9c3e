using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Recommendation;

namespace KnowledgeDistillation.Losses;

/// <summary>The recommender terms in the catalogue (see <see cref="GraphLosses"/>).</summary>
public static partial class GraphLosses
{
    extension(Loss)
    {
        /// <summary>BPR (Rendle et al. 2009, "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI), summed over the batch. Reports "NAME".</summary>
        /// <param name="participant">The participant trained.</param>
        /// <param name="name">Reporting name.</param>
        public static BprLoss Bpr(string participant = "student", string name = "bpr") => new(participant, name);

        /// <summary>FTD (Kang et al. 2021, "Topology Distillation for Recommender System", KDD). Reports "NAME".</summary>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="name">Reporting name.</param>
        public static FullTopologyLoss Ftd(string student = "student", string teacher = "teacher", string name = "ftd") => new(student, teacher, name);

        /// <summary>
        /// HTD (Kang et al. 2021, "Topology Distillation for Recommender System", KDD). Reports "NAME", "NAME.entity",
        /// "NAME.group", "NAME.ga".
        /// </summary>
        /// <param name="experts">Experts and selection networks (K groups per entity type).</param>
        /// <param name="annealing">Gumbel temperature schedule.</param>
        /// <param name="alpha">α of <c>α L_TD + (1 − α) L_GA</c>.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="name">Reporting name.</param>
        public static HierarchicalTopologyLoss Htd(
            DistillationExperts experts, GumbelAnnealing annealing, double alpha = 0.5, string student = "student", string teacher = "teacher", string name = "htd") =>
            new(experts, annealing, alpha, student: student, teacher: teacher, name: name);

        /// <summary>DE (Kang et al. 2020, "DE-RRD: A Knowledge Distillation Framework for Recommender System", CIKM). Reports "NAME", "NAME.users", "NAME.items".</summary>
        /// <param name="experts">Experts and selection networks.</param>
        /// <param name="annealing">Gumbel temperature schedule.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="name">Reporting name.</param>
        public static ExpertDistillationLoss De(
            DistillationExperts experts, GumbelAnnealing annealing, string student = "student", string teacher = "teacher", string name = "de") =>
            new(experts, annealing, student, teacher, name);

        /// <summary>RRD (Kang et al. 2020, "DE-RRD: A Knowledge Distillation Framework for Recommender System", CIKM). Reports "NAME".</summary>
        /// <param name="ranking">The teacher's top-N lists.</param>
        /// <param name="interesting">K interesting items per user (at most N).</param>
        /// <param name="uninteresting">L uninteresting items per user.</param>
        /// <param name="seed">Seed of the sampled lists.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="name">Reporting name.</param>
        public static RelaxedRankingLoss Rrd(TeacherRanking ranking, int interesting = 10, int uninteresting = 100, int seed = 0, string student = "student", string name = "rrd") =>
            new(ranking, interesting, uninteresting, seed: seed, student: student, name: name);
    }
}

/// <summary>The recommender methods in the catalogue (see <see cref="GraphRecipes"/>).</summary>
public static partial class GraphRecipes
{
    extension(Recipes)
    {
        /// <summary>A recommender trained alone with BPR (the "student alone" baseline, and the teacher's training).</summary>
        /// <param name="epochs">Epochs, or <c>null</c> for the run's.</param>
        /// <param name="participant">The participant trained.</param>
        public static DistillationRecipe Bpr(int? epochs = null, string participant = "student") =>
            RecommenderDistillation.Recipe("bpr", null, 0, epochs, readsTeacher: false, participant);

        /// <summary>FTD: <c>BPR + λ L_FTD</c> (Kang et al. 2021, KDD; λ = 1e-3).</summary>
        /// <param name="epochs">Epochs, or <c>null</c> for the run's.</param>
        /// <param name="lambda">λ.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        public static DistillationRecipe Ftd(int? epochs = null, double lambda = RecommenderDistillation.DefaultLambda, string student = "student", string teacher = "teacher") =>
            RecommenderDistillation.Recipe("ftd", new FullTopologyLoss(student, teacher), lambda, epochs, readsTeacher: true, student, teacher);

        /// <summary>
        /// HTD: <c>BPR + λ (α L_TD + (1 − α) L_GA)</c> (Kang et al. 2021, KDD; λ = 1e-3, α = 0.5, K = 30) with the paper's
        /// Gumbel temperature annealed from 1 to 1e-10 over <paramref name="epochs"/>.
        /// </summary>
        /// <param name="experts">Experts and selection networks (trained with the student).</param>
        /// <param name="epochs">Epochs of the stage (also the annealing length), &gt;= 1.</param>
        /// <param name="lambda">λ.</param>
        /// <param name="alpha">α.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        public static DistillationRecipe Htd(
            DistillationExperts experts, int epochs, double lambda = RecommenderDistillation.DefaultLambda, double alpha = 0.5, string student = "student", string teacher = "teacher") =>
            RecommenderDistillation.Recipe(
                "htd", new HierarchicalTopologyLoss(experts, new GumbelAnnealing(epochs), alpha, student: student, teacher: teacher), lambda, epochs, readsTeacher: true, student, teacher);

        /// <summary>DE: <c>BPR + λ L_DE</c> with the same annealed temperature as HTD.</summary>
        /// <param name="experts">Experts and selection networks.</param>
        /// <param name="epochs">Epochs of the stage (also the annealing length), &gt;= 1.</param>
        /// <param name="lambda">λ.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        public static DistillationRecipe De(
            DistillationExperts experts, int epochs, double lambda = RecommenderDistillation.DefaultLambda, string student = "student", string teacher = "teacher") =>
            RecommenderDistillation.Recipe("de", new ExpertDistillationLoss(experts, new GumbelAnnealing(epochs), student, teacher), lambda, epochs, readsTeacher: true, student, teacher);

        /// <summary>RRD: <c>BPR + λ L_RRD</c> over the teacher's precomputed top-N lists.</summary>
        /// <param name="ranking">The teacher's top-N lists.</param>
        /// <param name="epochs">Epochs, or <c>null</c> for the run's.</param>
        /// <param name="lambda">λ.</param>
        /// <param name="interesting">K interesting items per user (at most N).</param>
        /// <param name="uninteresting">L uninteresting items per user.</param>
        /// <param name="seed">Seed of the sampled lists.</param>
        /// <param name="student">The student's participant name.</param>
        public static DistillationRecipe Rrd(
            TeacherRanking ranking, int? epochs = null, double lambda = 1e-2, int interesting = 10, int uninteresting = 100, int seed = 0, string student = "student") =>
            RecommenderDistillation.Recipe("rrd", new RelaxedRankingLoss(ranking, interesting, uninteresting, seed: seed, student: student), lambda, epochs, readsTeacher: false, student);
    }
}
