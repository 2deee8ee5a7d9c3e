using System.CommandLine;
using FashionMnistDistillation;
using KnowledgeDistillation.Data;
using Microsoft.Extensions.Logging;

// Fashion-MNIST: train (or load) a CNN teacher, train a ~1%-size CNN student alone and with Hinton KD,
// print the accuracy table, plot the curves and save the student. `--full` runs the benchmark of
// docs/benchmarks.md (several seeds, longer training) and writes raw per-seed results.
var data = new Option<string?>("--data") { Description = "Directory with the Fashion-MNIST IDX files (default: search the usual places, then download)." };
var output = new Option<string>("--output") { Description = "Where the teacher, student, plot and results go.", DefaultValueFactory = _ => "output" };
var full = new Option<bool>("--full") { Description = "Run the benchmark setting: seeds 0,1,2 and a 10-epoch teacher (teacher-free: 10 student epochs)." };
var seeds = new Option<int?>("--seeds") { Description = "Number of seeds (overrides the default of the mode)." };
var teacherEpochs = new Option<int?>("--teacher-epochs") { Description = "Teacher epochs (quick default 3)." };
var studentEpochs = new Option<int?>("--student-epochs") { Description = "Student epochs (KD comparison: 20 on 5,000 images by default; teacher-free: 3 quick, 10 full)." };
var temperature = new Option<double>("--temperature") { Description = "KD temperature T.", DefaultValueFactory = _ => 4.0 };
var alpha = new Option<double>("--alpha") { Description = "Weight of the KD term; CE gets 1 - alpha.", DefaultValueFactory = _ => 0.9 };
var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training images." };
var studentTrainLimit = new Option<int?>("--student-train-limit") { Description = "KD comparison: train the students on the first N training images while the teacher uses the whole set (default 5000, the few-labels regime where KD helps; 0 = all images)." };
var retrain = new Option<bool>("--retrain-teacher") { Description = "Train the teacher even if a saved one exists." };
var results = new Option<string?>("--results") { Description = "Also write raw per-seed results (CSV, JSON) to this directory (e.g. docs/results)." };
var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
var student = new Option<string>("--student") { Description = "Student architecture: tiny (1% of the teacher's parameters), small (2%) or medium (25%).", DefaultValueFactory = _ => "small" };
student.AcceptOnlyFromAmong(Students.Names);
var teacherFree = new Option<bool>("--teacher-free") { Description = "Teacher-free comparison instead: plain, label smoothing, Tf-KD self, Tf-KD reg, DR-KD (dynamic and previous-epoch self-teacher), with training cost vs plain." };
var methods = new Option<string[]>("--methods") { Description = $"With --teacher-free: the methods to run (default all): {string.Join(", ", TeacherFreeExperiment.Methods)}.", AllowMultipleArgumentsPerToken = true };
methods.AcceptOnlyFromAmong(TeacherFreeExperiment.Methods);
var online = new Option<bool>("--online") { Description = "Online / semi-online comparison instead: a scaled resnet32x4 teacher and resnet8x4 student; student alone, KD, DML, SOKD, IE-KD, IE-DML." };
var onlineMethods = new Option<string[]>("--online-methods") { Description = $"With --online: the methods to run (default all): {string.Join(", ", OnlineExperiment.Methods)}.", AllowMultipleArgumentsPerToken = true };
onlineMethods.AcceptOnlyFromAmong(OnlineExperiment.Methods.Concat(OnlineExperiment.ExtraMethods).ToArray());
var widthScale = new Option<double>("--width-scale") { Description = "With --online: width multiplier of the resnet pair (1 = RepDistiller's widths).", DefaultValueFactory = _ => 0.25 };
var peerUpdate = new Option<KnowledgeDistillation.Engine.ParticipantUpdateOrder>("--peer-update") { Description = "With --online: DML / IE-DML peer updates, Sequential (the paper's Algorithm 1) or Simultaneous.", DefaultValueFactory = _ => KnowledgeDistillation.Engine.ParticipantUpdateOrder.Sequential };
var ieWeight = new Option<double>("--ie-weight") { Description = "With --online: IE-KD / IE-DML inheritance and exploration weight (the official configuration: 1).", DefaultValueFactory = _ => 1.0 };
var sokdFeatureWeight = new Option<double>("--sokd-feature-weight") { Description = "With --online-methods sokd-f: weight of SOKD's attention-transfer feature terms.", DefaultValueFactory = _ => 1000.0 };
var noCache = new Option<bool>("--no-cache") { Description = "Run the teacher in every epoch instead of caching its outputs after the first." };

var root = new RootCommand("Knowledge distillation on Fashion-MNIST with KnowledgeDistillation")
{
    data, output, full, seeds, teacherEpochs, studentEpochs, temperature, alpha, trainLimit, studentTrainLimit, retrain, results, device, student, noCache, teacherFree, methods, online, onlineMethods, widthScale, peerUpdate, ieWeight, sokdFeatureWeight,
};

root.SetAction((parse, cancellationToken) =>
{
    var isFull = parse.GetValue(full);
    var isTeacherFree = parse.GetValue(teacherFree);

    // The KD comparison defaults to the few-labels regime (docs/benchmarks.md explains why KD does not help
    // these students on the full set); the teacher-free comparison keeps the full set.
    var limit = parse.GetValue(studentTrainLimit) ?? (isTeacherFree ? 0 : 5000);
    var settings = new ExperimentSettings
    {
        DataDirectory = parse.GetValue(data),
        OutputDirectory = Path.GetFullPath(parse.GetValue(output)!),
        ResultsDirectory = parse.GetValue(results),
        TeacherEpochs = parse.GetValue(teacherEpochs) ?? (isFull ? 10 : 3),
        StudentEpochs = parse.GetValue(studentEpochs) ?? (isTeacherFree ? (isFull ? 10 : 3) : 20),
        Seeds = Enumerable.Range(0, parse.GetValue(seeds) ?? (isFull ? 3 : 1)).ToArray(),
        Temperature = parse.GetValue(temperature),
        Alpha = parse.GetValue(alpha),
        TrainLimit = parse.GetValue(trainLimit),
        StudentTrainLimit = limit > 0 ? limit : null,
        RetrainTeacher = parse.GetValue(retrain),
        Device = parse.GetValue(device)!,
        Student = parse.GetValue(student)!,
        CacheTeacher = !parse.GetValue(noCache),
        TeacherFree = isTeacherFree,
        TeacherFreeMethods = parse.GetValue(methods) is { Length: > 0 } chosen ? chosen : TeacherFreeExperiment.Methods,
    };

    // Epochs are shown by the console progress reporter (Tracking.cs), so the engine's own per-epoch logs are left out.
    using var loggers = LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .AddFilter(typeof(KnowledgeDistillation.Engine.Distiller).FullName, LogLevel.Warning));
    var logger = loggers.CreateLogger("FashionMnistDistillation");
    using var dataset = FashionMnist.Load(new FashionMnistOptions { Directory = settings.DataDirectory, TrainLimit = settings.TrainLimit }, logger, cancellationToken);
    logger.LogInformation("Fashion-MNIST: {Train} training and {Test} test images", dataset.Train.Count, dataset.Test.Count);

    if (parse.GetValue(online))
    {
        var onlineSettings = new OnlineSettings
        {
            OutputDirectory = settings.OutputDirectory,
            ResultsDirectory = settings.ResultsDirectory,
            Methods = parse.GetValue(onlineMethods) is { Length: > 0 } picked ? picked : OnlineExperiment.Methods,
            Seeds = Enumerable.Range(0, parse.GetValue(seeds) ?? (isFull ? 3 : 1)).ToArray(),
            TeacherEpochs = parse.GetValue(teacherEpochs) ?? 2,
            StudentEpochs = parse.GetValue(studentEpochs) ?? 10,
            StudentTrainLimit = settings.StudentTrainLimit,
            WidthScale = parse.GetValue(widthScale),
            UpdateOrder = parse.GetValue(peerUpdate),
            IeWeight = parse.GetValue(ieWeight),
            SokdFeatureWeight = parse.GetValue(sokdFeatureWeight),
            Temperature = settings.Temperature,
            Alpha = settings.Alpha,
            RetrainTeacher = settings.RetrainTeacher,
            Device = settings.Device,
        };
        var onlineRuns = new OnlineExperiment(onlineSettings, loggers).Run(
            dataset.Train, dataset.Test, soFar => WriteToOutputs(settings, directory => OnlineReport.WriteRaw(soFar, onlineSettings, directory)), cancellationToken);
        Console.WriteLine();
        Console.WriteLine($"Fashion-MNIST online / semi-online ({onlineSettings.Seeds.Length} seed(s), resnet32x4 -> resnet8x4 at width x{onlineSettings.WidthScale}, students {onlineSettings.StudentEpochs} epochs on {onlineSettings.StudentTrainLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all"} images):");
        Console.WriteLine(OnlineReport.Table(onlineRuns));
        return Task.FromResult(0);
    }

    if (settings.TeacherFree)
    {
        var teacherFreeRuns = new TeacherFreeExperiment(settings, loggers).Run(
            dataset.Train, dataset.Test, soFar => WriteToOutputs(settings, directory => TeacherFreeReport.WriteRaw(soFar, settings, directory)), cancellationToken);

        Console.WriteLine();
        Console.WriteLine($"Fashion-MNIST teacher-free ({settings.Seeds.Length} seed(s), {settings.Student} student, {settings.StudentEpochs} epochs, T={settings.Temperature}, alpha={settings.Alpha}):");
        Console.WriteLine(TeacherFreeReport.Table(teacherFreeRuns));
        return Task.FromResult(0);
    }

    var runs = new Experiment(settings, loggers).Run(dataset.Train, dataset.Test, cancellationToken);

    Directory.CreateDirectory(settings.OutputDirectory);
    var plotFile = Path.Combine(settings.OutputDirectory, "training-curves.png");
    Report.Plot(runs, plotFile);
    WriteToOutputs(settings, directory => Report.WriteRaw(runs, settings, directory));

    Console.WriteLine();
    Console.WriteLine($"Fashion-MNIST test accuracy ({settings.Seeds.Length} seed(s), teacher {settings.TeacherEpochs} epochs, {settings.Student} student {settings.StudentEpochs} epochs on {(settings.StudentTrainLimit?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "all")} images, T={settings.Temperature}, alpha={settings.Alpha}):");
    Console.WriteLine(Report.Table(runs));
    Console.WriteLine($"Plot: {plotFile}");
    Console.WriteLine($"Student: {Path.Combine(settings.OutputDirectory, "student-kd.bin")}");
    return Task.FromResult(0);
});

return await root.Parse(args).InvokeAsync();

// Raw results go to the output directory and, with --results, there too; the online and teacher-free comparisons
// rewrite them after every run, so an interrupted benchmark keeps what it finished.
static void WriteToOutputs(ExperimentSettings settings, Action<string> write)
{
    write(settings.OutputDirectory);
    if (settings.ResultsDirectory is { } directory)
    {
        write(directory);
    }
}
