using System.CommandLine;
using MethodComparison;
using Microsoft.Extensions.Logging;

// One comparison of the library's distillation methods on one teacher/student pair, data set and budget (issue 14):
// every method x every seed, mean ± std of the last-epoch and best-validation-epoch test accuracy, training wall time and
// peak memory (each run in its own child process), raw per-seed results and a plot; a step-time mode (each method's step
// time relative to KD in one process); and the published CIFAR-100 recipe with --preset cifar100-paper.
var preset = new Option<string>("--preset") { Description = "fashion-mnist (the scaled few-labels comparison of docs/benchmarks.md) or cifar100-paper (RepDistiller's CIFAR-100 recipe unchanged; needs --data and a GPU).", DefaultValueFactory = _ => "fashion-mnist" };
preset.AcceptOnlyFromAmong("fashion-mnist", "cifar100-paper");
var data = new Option<string?>("--data") { Description = "Data directory (Fashion-MNIST IDX files, or the CIFAR-100 binary version's directory)." };
var output = new Option<string>("--output") { Description = "Teachers, raw runs (runs/*.json), summary and plot go here.", DefaultValueFactory = _ => "output/method-comparison" };
var methods = new Option<string[]>("--methods") { Description = $"Methods to run (default all): {string.Join(", ", MethodCatalog.Names)}.", AllowMultipleArgumentsPerToken = true };
methods.AcceptOnlyFromAmong(MethodCatalog.Names.ToArray());
var seeds = new Option<int[]>("--seeds") { Description = "Seeds (default 0 1 2).", AllowMultipleArgumentsPerToken = true };
var parallel = new Option<int>("--parallel") { Description = "Child processes side by side.", DefaultValueFactory = _ => 1 };
var threads = new Option<int?>("--threads") { Description = "libtorch threads per process (default: 1 for fashion-mnist, 4 for cifar100-paper)." };
var device = new Option<string?>("--device") { Description = "cpu or cuda (default: cpu for fashion-mnist, cuda for cifar100-paper)." };
var studentEpochs = new Option<int?>("--student-epochs") { Description = "Epochs of every method's distillation stage (fashion-mnist default 8; paper 240)." };
var teacherEpochs = new Option<int?>("--teacher-epochs") { Description = "Teacher epochs (fashion-mnist default 1; paper 240)." };
var teacherTrainLimit = new Option<int?>("--teacher-train-limit") { Description = "The teacher trains on the first N training images (fashion-mnist default 20000; paper all; 0 = all)." };
var initEpochs = new Option<int?>("--init-epochs") { Description = "Initialisation-stage epochs of FitNets (two-stage), AB, FSP, FT (default: RepDistiller's 30 of 240 scaled to the student epochs)." };
var warmupEpochs = new Option<int?>("--warmup-epochs") { Description = "DKD / ReviewKD warm-up epochs (default: mdistiller's 20 of 240 scaled to the student epochs)." };
var trainLimit = new Option<int?>("--student-train-limit") { Description = "Students train on the first N training images (fashion-mnist default 2000; 0 = all)." };
var validation = new Option<int?>("--validation") { Description = "Validation images, the last N training images (fashion-mnist default 2000; 0 = none: best epoch on test, as the papers)." };
var widthScale = new Option<double?>("--width-scale") { Description = "Width multiplier of the pair (fashion-mnist default 0.125; paper 1)." };
var crdNegatives = new Option<int?>("--crd-negatives") { Description = "CRD negatives K (fashion-mnist default 1024; paper 16384)." };
var inProcess = new Option<bool>("--in-process") { Description = "Run every method in this process (no child processes; peak memory is then not reported)." };
var retrain = new Option<bool>("--retrain-teacher") { Description = "Train the teachers even if saved ones exist." };
var stepTime = new Option<bool>("--step-time") { Description = "Step-time mode: every method's training-step time relative to KD, alternating in one process (writes step-time.json)." };
var stepSteps = new Option<int>("--step-time-steps") { Description = "Step-time mode: steps per method and round.", DefaultValueFactory = _ => 20 };
var stepRounds = new Option<int>("--step-time-rounds") { Description = "Step-time mode: rounds (the first warms up).", DefaultValueFactory = _ => 4 };
var aggregate = new Option<bool>("--aggregate") { Description = "Only aggregate the runs already under <output>/runs (and step-time.json) into the summary and plot." };
var teachersOnly = new Option<bool>("--teachers-only") { Description = "Only train (or load) the teachers the methods need, record their accuracy, and stop." };
var teacher2Epochs = new Option<int?>("--teacher2-epochs") { Description = "The multi-teacher run's second teacher's epochs (fashion-mnist default 1; paper 240)." };
var teacher2TrainLimit = new Option<int?>("--teacher2-train-limit") { Description = "The multi-teacher run's second teacher (resnet20x4) trains on the first N training images (fashion-mnist default 10000; 0 = all)." };
var child = new Option<string?>("--child") { Description = "Internal: run this one method (with --child-seed) and write its result file.", Hidden = true };
var childSeed = new Option<int>("--child-seed") { Description = "Internal: the child's seed.", Hidden = true };

var root = new RootCommand("Compares the library's distillation methods on one pair, data set and budget (issue 14)")
{
    preset, data, output, methods, seeds, parallel, threads, device, studentEpochs, teacherEpochs, teacherTrainLimit, initEpochs, warmupEpochs, trainLimit, validation,
    widthScale, crdNegatives, inProcess, retrain, stepTime, stepSteps, stepRounds, aggregate, teachersOnly, teacher2TrainLimit, teacher2Epochs, child, childSeed,
};

root.SetAction(async (parse, cancellationToken) =>
{
    var outputDirectory = Path.GetFullPath(parse.GetValue(output)!);
    var basis = parse.GetValue(preset) == "cifar100-paper" ? ComparisonSettings.Cifar100Paper(outputDirectory) : ComparisonSettings.FashionMnist(outputDirectory);
    var epochs = parse.GetValue(studentEpochs) ?? basis.StudentEpochs;
    var (scaledInit, scaledWarmup) = basis.Preset == Preset.Cifar100Paper ? (basis.InitEpochs, basis.WarmupEpochs) : ComparisonSettings.ScaledStages(epochs);
    var limit = parse.GetValue(trainLimit);
    var settings = basis with
    {
        DataDirectory = parse.GetValue(data) ?? (basis.Preset == Preset.FashionMnist ? KnowledgeDistillation.Data.FashionMnist.SystemDirectory : null),
        Methods = parse.GetValue(methods) is { Length: > 0 } picked ? picked : MethodCatalog.DefaultMethods,
        Seeds = parse.GetValue(seeds) is { Length: > 0 } chosen ? chosen : basis.Seeds,
        Parallel = Math.Max(1, parse.GetValue(parallel)),
        Threads = parse.GetValue(threads) ?? basis.Threads,
        Device = parse.GetValue(device) ?? basis.Device,
        StudentEpochs = epochs,
        TeacherEpochs = parse.GetValue(teacherEpochs) ?? basis.TeacherEpochs,
        TeacherTrainLimit = parse.GetValue(teacherTrainLimit) is { } t1 ? (t1 > 0 ? t1 : null) : basis.TeacherTrainLimit,
        SecondTeacherEpochs = parse.GetValue(teacher2Epochs) ?? basis.SecondTeacherEpochs,
        SecondTeacherTrainLimit = parse.GetValue(teacher2TrainLimit) is { } t2 ? (t2 > 0 ? t2 : null) : basis.SecondTeacherTrainLimit,
        InitEpochs = parse.GetValue(initEpochs) ?? scaledInit,
        WarmupEpochs = parse.GetValue(warmupEpochs) ?? scaledWarmup,
        StudentTrainLimit = limit is null ? basis.StudentTrainLimit : limit > 0 ? limit : null,
        ValidationCount = parse.GetValue(validation) ?? basis.ValidationCount,
        WidthScale = parse.GetValue(widthScale) ?? basis.WidthScale,
        CrdNegatives = parse.GetValue(crdNegatives) ?? basis.CrdNegatives,
        ChildProcesses = !parse.GetValue(inProcess),
        RetrainTeacher = parse.GetValue(retrain),
        StepTimeSteps = parse.GetValue(stepSteps),
        StepTimeRounds = parse.GetValue(stepRounds),
    };

    using var loggers = LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .AddFilter(typeof(KnowledgeDistillation.Engine.Distiller).FullName, LogLevel.Warning));
    var logger = loggers.CreateLogger("MethodComparison");
    Directory.CreateDirectory(settings.OutputDirectory);

    if (parse.GetValue(aggregate))
    {
        var teachers = Report.ReadJson<List<TeacherRecord>>(Path.Combine(settings.OutputDirectory, "teachers.json")) ?? new List<TeacherRecord>();
        var rounds = Report.ReadJson<List<StepTimeRound>>(Path.Combine(settings.OutputDirectory, "step-time.json"));
        Console.WriteLine(Report.WriteSummary(settings, Report.ReadRuns(settings), teachers, rounds is null ? null : Summary.StepTimeRatios(rounds)));
        return 0;
    }

    using var dataset = ComparisonData.Load(settings, logger, cancellationToken);
    if (parse.GetValue(child) is { } method)
    {
        var seed = parse.GetValue(childSeed);
        var run = new MethodRunner(settings, dataset, loggers).Run(method, seed, cancellationToken);
        Report.WriteRun(Report.RunFile(settings, method, seed), run);
        return 0;
    }

    if (parse.GetValue(teachersOnly))
    {
        new Comparison(settings, args, loggers).PrepareTeachers(dataset, cancellationToken);
        return 0;
    }

    if (parse.GetValue(stepTime))
    {
        var rounds = new StepTimeBenchmark(settings, dataset, loggers).Run(cancellationToken);
        Console.WriteLine(StepTimeBenchmark.Table(rounds));
        return 0;
    }

    // Children get this command line (minus the parent-only options, which they ignore) plus --child / --child-seed.
    await new Comparison(settings, args, loggers).RunAsync(dataset, cancellationToken);
    return 0;
});

return await root.Parse(args).InvokeAsync();
