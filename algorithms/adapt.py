"""lrm:adapt -- the whole method: train translator, translate sources, train segmenter,
classify the target, and (with reference labels) evaluate.

Each stage runs the stage's own algorithm as a child algorithm, so lrm:adapt, the
shipped graphical model and the individual algorithms share one code path. Progress is
reported per stage through QgsProcessingMultiStepFeedback; cancel ends the running
stage's worker at once.
"""

import os
import tempfile
from types import SimpleNamespace

from qgis.core import (QgsProcessing, QgsProcessingContext, QgsProcessingException,
                       QgsProcessingMultiStepFeedback, QgsProcessingOutputNumber, QgsProcessingOutputString,
                       QgsProcessingUtils)

from ..models import contract
from . import parameters as P
from .base import GROUP_ADAPTATION, LrmAlgorithm
from .folder_lock import FolderBusy, FolderLock
from .presets import PRESET_NAMES, PRESETS
from .styling import style_on_load
from .train_translator import METHODS, PERCEPTUAL_LOSSES, TARGET_TO_SOURCE_METHODS, style_mixing_index

# The child algorithms' parameter names, from the shared contract (a renamed parameter
# fails here, at the first run, instead of being passed on and ignored).
TRANSLATOR = contract.named("train_translator")
TRANSLATE = contract.named("translate")
SEGMENTER = contract.named("train_segmenter")
CLASSIFY = contract.named("classify")
EVALUATE = contract.named("evaluate")


class Adapt(LrmAlgorithm):
    NAME = "adapt"
    DISPLAY_NAME = "Adapt to target (one-shot, end to end)"
    GROUP = GROUP_ADAPTATION
    HELP = (
        "The whole method in one run: trains the one-shot translator on SOURCE images and one "
        "sample of TARGET, translates every SOURCE image into the target's style, trains a U-Net "
        "on the translated images with SOURCE_LABELS, and classifies the TARGET layer "
        "(OUTPUT_CLASSIFIED, styled with the class table). With TARGET_REFERENCE (labels of the "
        "target, used only for evaluation) it also reports mIoU, mean F1 and overall accuracy "
        "(OUTPUT_HTML).\n\n"
        "PRESET (enum, in this order): 0 paper (the paper's settings: 512 px patches, batch 8, "
        "up to 100 epochs with early stopping, ResNet-101; hours on a GPU), 1 quick (128 px, "
        "batch 4, ResNet-18, 300 translator and 300 segmenter iterations; minutes on a CPU). "
        "PATCH_SIZE, BATCH_SIZE, TRANSLATOR_ITERATIONS, SEGMENTER_ITERATIONS left at 0 and "
        "ENCODER left empty take the preset's value.\n\n"
        "LABEL_FORMAT (enum, in this order): 0 class indices, 1 colour-coded. CLASSES: empty for "
        "the six ISPRS classes, or 'index name r,g,b; ...', or a .csv/.qml file. TARGET_EXTENT "
        "chooses where the one-shot sample is taken (otherwise automatically). Translated source "
        "images are kept in OUTPUT_TRANSLATED_FOLDER when given. DEVICE: auto, cpu, cuda, cuda:N, "
        "or a list (cuda:0,1, cuda:all, cpu:N) to train on several devices at once.\n\n"
        "PERCEPTUAL_LOSS (enum, in this order): 0 auto (default; the paper's VGG19 losses when "
        "ImageNet VGG19 weights are found in VGG_WEIGHTS or torchvision's cache or can be "
        "downloaded, otherwise, e.g. offline, the weight-free losses), 1 vgg19_imagenet (an error "
        "naming VGG_WEIGHTS without the weights), 2 weight_free, 3 vgg19_random (comparison "
        "only). STYLE_MIXING (advanced; not set = by loss family: global for weight_free, spatial "
        "for VGG19): 0 spatial (as published), 1 global. ONE_SHOT_SIZE: side of the one-shot "
        "sample in pixels (default 512; 0 = the patch size; the largest square that fits when "
        "TARGET is smaller). These go to 'Train translator'; PERCEPTUAL_LOSS_USED and the log "
        "say which losses ran.\n\n"
        "METHOD (enum, same order as in 'Train translator'): 0 lrm (default), 1 histogram_matching, "
        "2 fda, 3 cyclegan, 4 colormapgan, 5 dualgan, 6 benjdira. Every method but benjdira "
        "translates the SOURCE images and trains the segmenter on them; benjdira (Benjdira et al. "
        "2019) trains the segmenter on the untranslated SOURCE and classifies the TARGET translated "
        "towards the SOURCE look, as its paper does (the translated target is kept in "
        "OUTPUT_TRANSLATED_FOLDER when given).")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        self.addOutput(QgsProcessingOutputNumber("MIOU", "mIoU (%)"))
        self.addOutput(QgsProcessingOutputNumber("MEAN_F1", "Mean F1 (%)"))
        self.addOutput(QgsProcessingOutputNumber("OVERALL_ACCURACY", "Overall accuracy (%)"))
        self.addOutput(QgsProcessingOutputString("PERCEPTUAL_LOSS_USED", "Perceptual losses used by the translator"))

    # -- helpers ----------------------------------------------------------------------
    def settings(self, parameters, context):
        preset = PRESETS[PRESET_NAMES[self.parameterAsEnum(parameters, "PRESET", context)]]
        value = lambda name, key: self.parameterAsInt(parameters, name, context) or preset[key]  # noqa: E731
        settings = {
            "patch_size": value("PATCH_SIZE", "patch_size"),
            "batch_size": value("BATCH_SIZE", "batch_size"),
            "translator_iterations": value("TRANSLATOR_ITERATIONS", "translator_iterations"),
            "segmenter_iterations": value("SEGMENTER_ITERATIONS", "segmenter_iterations"),
            "encoder": self.parameterAsString(parameters, "ENCODER", context).strip() or preset["encoder"],
            "translator_epochs": preset["translator_epochs"], "segmenter_epochs": preset["segmenter_epochs"],
            "patience": preset["patience"],
        }
        # Windows are the patch size: overlap a quarter of it, at most the preset's.
        settings["overlap"] = min(preset["overlap"], settings["patch_size"] // 4)
        return settings

    @staticmethod
    def run_child(algorithm_id, params, context, feedback):
        import processing

        if feedback.isCanceled():
            raise QgsProcessingException("Cancelled.")
        return processing.run(algorithm_id, params, context=context, feedback=feedback,
                              is_child_algorithm=True)

    # -- the pipeline -----------------------------------------------------------------
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        run = self.resolve_inputs(parameters, context)
        try:
            with FolderLock(run.folder):
                return self.run_stages(run, parameters, context, feedback)
        except FolderBusy as exc:
            raise QgsProcessingException(f"OUTPUT_TRANSLATED_FOLDER: {exc}") from None

    def run_stages(self, run, parameters, context, feedback):
        steps = linked(QgsProcessingMultiStepFeedback(5 if run.reference else 4, feedback), feedback)
        feedback.pushInfo(f"Settings: {run.settings}")
        perceptual_loss_used = self.train_translator_stage(run, parameters, context, feedback, steps)
        translated = self.translate_stage(run, context, feedback, steps)
        training_images = run.sources if run.towards_source else translated
        to_classify = translated[0] if run.towards_source else run.target
        reports = self.train_segmenter_stage(run, training_images, parameters, context, feedback, steps)

        steps.setCurrentStep(3)
        feedback.pushInfo("Stage 4/4: classifying the target")
        self.run_child("lrm:classify", {CLASSIFY.INPUT: to_classify, CLASSIFY.MODEL: run.segmenter,
                                        CLASSIFY.OVERLAP: run.settings["overlap"],
                                        CLASSIFY.BATCH_SIZE: run.settings["batch_size"],
                                        CLASSIFY.DEVICE: run.device, CLASSIFY.OUTPUT: run.classified},
                       context, steps)
        style_on_load(context, run.classified, "Classified target (LRM Adapt)")
        results = {"OUTPUT_TRANSLATOR": run.translator, "OUTPUT_SEGMENTER": run.segmenter,
                   "OUTPUT_CLASSIFIED": run.classified,
                   "OUTPUT_TRANSLATED_FOLDER": run.folder if run.keep_translated else None,
                   "MIOU": None, "MEAN_F1": None, "OVERALL_ACCURACY": None, "OUTPUT_HTML": None,
                   "PERCEPTUAL_LOSS_USED": perceptual_loss_used}
        if run.reference:
            results.update(self.evaluate_stage(run, reports, parameters, context, feedback, steps))
        return results

    def resolve_inputs(self, parameters, context):
        """Every input and output path of a run, checked, with the preset applied."""
        sources = self.raster_paths(parameters, "SOURCE", context)
        labels = self.raster_paths(parameters, "SOURCE_LABELS", context)
        if len(sources) != len(labels):
            raise QgsProcessingException(f"{len(sources)} SOURCE image(s) but {len(labels)} "
                                         f"SOURCE_LABELS raster(s): give one label raster per image.")
        reference_layer = self.parameterAsRasterLayer(parameters, "TARGET_REFERENCE", context)
        folder = self.parameterAsString(parameters, "OUTPUT_TRANSLATED_FOLDER", context)
        keep_translated = bool(folder) and folder != QgsProcessing.TEMPORARY_OUTPUT
        if not keep_translated:
            folder = tempfile.mkdtemp(prefix="lrm_translated_", dir=QgsProcessingUtils.tempFolder())
        os.makedirs(folder, exist_ok=True)
        method_index = self.parameterAsEnum(parameters, "METHOD", context)
        return SimpleNamespace(
            settings=self.settings(parameters, context), sources=sources, labels=labels,
            target=self.raster_path(parameters, "TARGET", context),
            reference=(self.raster_path(parameters, "TARGET_REFERENCE", context, reference_layer)
                       if reference_layer else None),
            translator=self.parameterAsFileOutput(parameters, "OUTPUT_TRANSLATOR", context),
            segmenter=self.parameterAsFileOutput(parameters, "OUTPUT_SEGMENTER", context),
            classified=self.parameterAsOutputLayer(parameters, "OUTPUT_CLASSIFIED", context),
            folder=folder, keep_translated=keep_translated,
            device=self.parameterAsString(parameters, "DEVICE", context) or "auto",
            seed=self.parameterAsInt(parameters, "SEED", context),
            bands=self.parameterAsString(parameters, "BANDS", context).strip(),
            classes=self.parameterAsString(parameters, "CLASSES", context),
            method_index=method_index, towards_source=METHODS[method_index] in TARGET_TO_SOURCE_METHODS)

    def train_translator_stage(self, run, parameters, context, feedback, steps):
        """Stage 1: lrm:train_translator; returns the perceptual losses it used."""
        s = run.settings
        steps.setCurrentStep(0)
        feedback.pushInfo(f"Stage 1/4: training the translator (METHOD {METHODS[run.method_index]})")
        params = {TRANSLATOR.SOURCE: run.sources, TRANSLATOR.TARGET: run.target, TRANSLATOR.BANDS: run.bands,
                  TRANSLATOR.METHOD: run.method_index,
                  TRANSLATOR.PATCH_SIZE: s["patch_size"], TRANSLATOR.BATCH_SIZE: s["batch_size"],
                  TRANSLATOR.EPOCHS: s["translator_epochs"],
                  TRANSLATOR.MAX_ITERATIONS: s["translator_iterations"], TRANSLATOR.PATIENCE: s["patience"],
                  TRANSLATOR.VGG_WEIGHTS: self.parameterAsFile(parameters, "VGG_WEIGHTS", context),
                  TRANSLATOR.PERCEPTUAL_LOSS: self.parameterAsEnum(parameters, "PERCEPTUAL_LOSS", context),
                  TRANSLATOR.ONE_SHOT_SIZE: self.parameterAsInt(parameters, "ONE_SHOT_SIZE", context),
                  TRANSLATOR.OUTPUT: run.translator, TRANSLATOR.OUTPUT_HTML: report_path(run.translator),
                  TRANSLATOR.DEVICE: run.device, TRANSLATOR.SEED: run.seed}
        mixing = style_mixing_index(self, parameters, context)
        if mixing is not None:
            params[TRANSLATOR.STYLE_MIXING] = mixing
        if parameters.get("TARGET_EXTENT") not in (None, ""):
            params[TRANSLATOR.TARGET_EXTENT] = parameters["TARGET_EXTENT"]
        result = self.run_child("lrm:train_translator", params, context, steps)
        used = result.get("PERCEPTUAL_LOSS_USED") or ""
        feedback.pushInfo(f"Translator: {result.get('PARAMETERS')} parameters, "
                          f"{result.get('SECONDS_PER_ITERATION')} s/iteration, one-shot window "
                          f"{result.get('TARGET_WINDOW')}, PERCEPTUAL_LOSS_USED {used or 'none'} "
                          f"(asked for {PERCEPTUAL_LOSSES[params[TRANSLATOR.PERCEPTUAL_LOSS]]})")
        return used

    def translate_stage(self, run, context, feedback, steps):
        """Stage 2: lrm:translate of every SOURCE image (of TARGET for target_to_source)."""
        steps.setCurrentStep(1)
        if run.towards_source:
            feedback.pushInfo("Stage 2/4: translating the target towards the source look")
            jobs = [(run.target, os.path.join(run.folder, "target_translated.tif"), "target")]
        else:
            feedback.pushInfo("Stage 2/4: translating the source images")
            jobs = []
            for i, source in enumerate(run.sources):
                name = os.path.splitext(os.path.basename(source))[0]
                jobs.append((source, os.path.join(run.folder, f"{i:03d}_{name}_translated.tif"), name))
        translated = []
        for i, (image, out, name) in enumerate(jobs):
            sub = linked(QgsProcessingMultiStepFeedback(len(jobs), steps), steps)
            sub.setCurrentStep(i)
            self.run_child("lrm:translate", {TRANSLATE.INPUT: image, TRANSLATE.MODEL: run.translator,
                                             TRANSLATE.OVERLAP: run.settings["overlap"],
                                             TRANSLATE.BATCH_SIZE: run.settings["batch_size"],
                                             TRANSLATE.DEVICE: run.device, TRANSLATE.OUTPUT: out}, context, sub)
            translated.append(out)
            if run.keep_translated:
                context.addLayerToLoadOnCompletion(out, QgsProcessingContext.LayerDetails(
                    f"{name} (translated)", context.project(), "OUTPUT_TRANSLATED_FOLDER"))
        return translated

    def train_segmenter_stage(self, run, images, parameters, context, feedback, steps):
        """Stage 3: lrm:train_segmenter; returns the training reports written."""
        s = run.settings
        steps.setCurrentStep(2)
        feedback.pushInfo("Stage 3/4: training the segmenter on the "
                          + ("untranslated source images" if run.towards_source else "translated images"))
        result = self.run_child("lrm:train_segmenter", {
            SEGMENTER.IMAGES: images, SEGMENTER.LABELS: run.labels,
            SEGMENTER.LABEL_FORMAT: self.parameterAsEnum(parameters, "LABEL_FORMAT", context),
            SEGMENTER.CLASSES: run.classes, SEGMENTER.BANDS: run.bands, SEGMENTER.ENCODER: s["encoder"],
            SEGMENTER.ENCODER_WEIGHTS: self.parameterAsFile(parameters, "ENCODER_WEIGHTS", context),
            SEGMENTER.PATCH_SIZE: s["patch_size"], SEGMENTER.BATCH_SIZE: s["batch_size"],
            SEGMENTER.EPOCHS: s["segmenter_epochs"], SEGMENTER.MAX_ITERATIONS: s["segmenter_iterations"],
            SEGMENTER.PATIENCE: s["patience"], SEGMENTER.OUTPUT: run.segmenter,
            SEGMENTER.OUTPUT_HTML: report_path(run.segmenter), SEGMENTER.DEVICE: run.device,
            SEGMENTER.SEED: run.seed}, context, steps)
        reports = [p for p in (report_path(run.translator), report_path(run.segmenter)) if os.path.isfile(p)]
        feedback.pushInfo("Training reports: " + ", ".join(reports))
        feedback.pushInfo(f"Segmenter: best validation mIoU {result.get('BEST_VALIDATION_MIOU')}")
        return reports

    def evaluate_stage(self, run, reports, parameters, context, feedback, steps):
        """Stage 5 (with TARGET_REFERENCE): lrm:evaluate, its report linked to the training reports."""
        steps.setCurrentStep(4)
        feedback.pushInfo("Evaluating against TARGET_REFERENCE")
        html_path = self.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
        if not html_path or html_path == QgsProcessing.TEMPORARY_OUTPUT:
            html_path = os.path.join(run.folder, "evaluation.html")
        scores = self.run_child("lrm:evaluate", {
            EVALUATE.PREDICTION: run.classified, EVALUATE.REFERENCE: run.reference,
            EVALUATE.LABEL_FORMAT: self.parameterAsEnum(parameters, "LABEL_FORMAT", context),
            EVALUATE.CLASSES: run.classes, EVALUATE.OUTPUT_HTML: html_path,
            EVALUATE.OUTPUT_TABLE: os.path.splitext(html_path)[0] + ".csv"}, context, steps)
        link_training_reports(html_path, reports)
        return {"MIOU": scores["MIOU"], "MEAN_F1": scores["MEAN_F1"],
                "OVERALL_ACCURACY": scores["OVERALL_ACCURACY"], "OUTPUT_HTML": html_path}


def report_path(model_path):
    """Where lrm:adapt puts a training report: next to the model, ``<model>_report.html``."""
    return os.path.splitext(model_path)[0] + "_report.html"


def link_training_reports(html_path, reports):
    """Add links to the training reports at the end of the evaluation report."""
    import html as html_module
    import pathlib

    if not reports or not os.path.isfile(html_path):
        return
    items = "".join(f'<li><a href="{html_module.escape(pathlib.Path(os.path.abspath(p)).as_uri())}">'
                    f"{html_module.escape(os.path.basename(p))}</a></li>" for p in reports)
    with open(html_path, encoding="utf-8") as f:
        text = f.read()
    block = f"<h2>Training reports</h2><ul>{items}</ul>"
    text = text.replace("</body>", block + "</body>") if "</body>" in text else text + block
    partial = f"{html_path}.{os.getpid()}.partial"  # never a half-rewritten report
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, html_path)


def linked(child, parent):
    """``child`` (a multi-step feedback over ``parent``) cancelled when ``parent`` is.

    QGIS 3.22's QgsProcessingMultiStepFeedback does not pass a cancel on to the feedback
    it wraps (measured: after Cancel in stage 2 the translations ran to their end and the
    segmenter stage began, 9.7 s later), so the worker of a child algorithm never saw it."""
    from qgis.PyQt.QtCore import Qt

    # direct: Cancel comes from the GUI thread while the algorithm runs in a task's thread,
    # whose event loop would never deliver a queued call
    parent.canceled.connect(child.cancel, Qt.ConnectionType.DirectConnection)
    if parent.isCanceled():
        child.cancel()
    return child
