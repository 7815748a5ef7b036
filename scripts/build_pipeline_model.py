"""Build resources/models/lrm_pipeline.model3, the graphical model users open in the modeler.

    .venv/bin/python scripts/build_pipeline_model.py

It chains train translator -> translate -> train segmenter -> classify -> evaluate
with exposed inputs. It is generated through QGIS's own model API (not hand-written
XML) so it stays loadable by QGIS; rerun it after changing algorithm parameters.
"""

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "resources", "models", "lrm_pipeline.model3")
sys.path.insert(0, ROOT)
from models import contract  # noqa: E402  (plain data: enum orders)


def build():
    from qgis.core import (QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildDependency,
                           QgsProcessingModelChildParameterSource as Source,
                           QgsProcessingModelOutput, QgsProcessingModelParameter,
                           QgsProcessingParameterEnum, QgsProcessingParameterNumber,
                           QgsProcessingParameterRasterLayer, QgsProcessingParameterString)
    from qgis.PyQt.QtCore import QPointF

    registry = QgsApplication.processingRegistry()
    method_names = registry.algorithmById("lrm:train_translator").parameterDefinition("METHOD").options()
    model = QgsProcessingModelAlgorithm("lrm_pipeline", "LRM Adapt")
    model.setHelpContent({"ALG_DESC": (
        "The LRM Adapt pipeline as a graphical model: train the one-shot translator on a source "
        "image and the target layer, translate the source image, train a U-Net on it with the "
        "source labels, classify the target layer and evaluate it against reference labels. "
        "Open it in the graphical modeler to change or extend the pipeline (e.g. add more source "
        "images).\n\nMETHOD: the translation method, as in 'Train translator' (0 lrm, the default). "
        "A method that translates the target towards the source look (6 benjdira) is applied as "
        "its paper does: the segmenter learns the untranslated source image and classifies the "
        "translated target; TRANSLATED_SOURCE then holds the translated target.")})

    inputs = [
        (QgsProcessingParameterRasterLayer("SOURCE", "Source image"), 40),
        (QgsProcessingParameterRasterLayer("SOURCE_LABELS", "Source labels"), 120),
        (QgsProcessingParameterRasterLayer("TARGET", "Target layer (one-shot sample)"), 200),
        (QgsProcessingParameterRasterLayer("TARGET_REFERENCE", "Target reference labels"), 280),
        (QgsProcessingParameterEnum("LABEL_FORMAT", "Label format",
                                    ["Class indices (one band)", "Colour-coded (three bands)"],
                                    defaultValue=0), 360),
        (QgsProcessingParameterNumber("PATCH_SIZE", "Patch size", QgsProcessingParameterNumber.Integer, 128, False, 32), 440),
        (QgsProcessingParameterNumber("BATCH_SIZE", "Batch size", QgsProcessingParameterNumber.Integer, 4, False, 1), 520),
        (QgsProcessingParameterNumber("TRANSLATOR_ITERATIONS", "Translator iterations (0 = until early stopping)",
                                      QgsProcessingParameterNumber.Integer, 150, False, 0), 600),
        (QgsProcessingParameterNumber("SEGMENTER_ITERATIONS", "Segmenter iterations (0 = until early stopping)",
                                      QgsProcessingParameterNumber.Integer, 300, False, 0), 680),
        (QgsProcessingParameterString("ENCODER", "Encoder", "resnet18"), 760),
        (QgsProcessingParameterString("DEVICE", "Device (auto, cpu, cuda, cuda:N)", "auto"), 840),
        (QgsProcessingParameterEnum("METHOD", "Translation method", method_names, defaultValue=0), 920),
    ]
    for definition, y in inputs:
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(120, y))
        model.addModelParameter(definition, component)

    def child(child_id, algorithm_id, x, y, params, outputs=(), after=()):
        alg = QgsProcessingModelChildAlgorithm(algorithm_id)
        alg.setDependencies([QgsProcessingModelChildDependency(d) for d in after])
        alg.setChildId(child_id)
        alg.setDescription(child_id.replace("_", " "))
        alg.setPosition(QPointF(x, y))
        for name, source in params.items():
            alg.addParameterSources(name, [source])
        # Like the modeler's dialog: every other parameter gets its default as a static value.
        definition = registry.algorithmById(algorithm_id)
        for param in definition.parameterDefinitions():
            if (param.name() not in params and not param.isDestination()
                    and param.defaultValue() is not None):
                alg.addParameterSources(param.name(), [Source.fromStaticValue(param.defaultValue())])
        model_outputs = {}
        for output_name, name, description in outputs:
            out = QgsProcessingModelOutput(name, description)
            out.setChildOutputName(output_name)
            out.setChildId(child_id)
            out.setPosition(QPointF(x + 200, y + 40))
            model_outputs[name] = out
        alg.setModelOutputs(model_outputs)
        model.addChildAlgorithm(alg)
        return alg

    p, c, v = Source.fromModelParameter, Source.fromChildOutput, Source.fromStaticValue
    e = Source.fromExpression
    # One chain serves both directions: which image is translated, trained on and
    # classified is chosen by METHOD at run time (models/contract/enums.py TARGET_TO_SOURCE).
    towards_source = "@METHOD IN ({})".format(", ".join(
        str(contract.METHODS.index(m)) for m in contract.TARGET_TO_SOURCE))
    child("train_translator", "lrm:train_translator", 480, 80, {
        "SOURCE": p("SOURCE"), "TARGET": p("TARGET"), "PATCH_SIZE": p("PATCH_SIZE"),
        "BATCH_SIZE": p("BATCH_SIZE"), "MAX_ITERATIONS": p("TRANSLATOR_ITERATIONS"),
        "EPOCHS": v(1000), "PATIENCE": v(10), "DEVICE": p("DEVICE"), "METHOD": p("METHOD"),
    }, [("OUTPUT", "TRANSLATOR_MODEL", "Translator model")])
    child("translate", "lrm:translate", 480, 260, {
        "INPUT": e(f"if({towards_source}, @TARGET, @SOURCE)"), "MODEL": c("train_translator", "OUTPUT"),
        "OVERLAP": v(32), "BATCH_SIZE": p("BATCH_SIZE"), "DEVICE": p("DEVICE"),
    }, [("OUTPUT", "TRANSLATED_SOURCE", "Translated source (the target for benjdira)")])
    child("train_segmenter", "lrm:train_segmenter", 480, 440, {
        "IMAGES": e(f"if({towards_source}, @SOURCE, @translate_OUTPUT)"), "LABELS": p("SOURCE_LABELS"),
        "LABEL_FORMAT": p("LABEL_FORMAT"), "ENCODER": p("ENCODER"), "PATCH_SIZE": p("PATCH_SIZE"),
        "BATCH_SIZE": p("BATCH_SIZE"), "MAX_ITERATIONS": p("SEGMENTER_ITERATIONS"),
        "EPOCHS": v(1000), "PATIENCE": v(10), "DEVICE": p("DEVICE"),
    }, [("OUTPUT", "SEGMENTER_MODEL", "Segmenter model")], after=["translate"])
    child("classify", "lrm:classify", 480, 620, {
        "INPUT": e(f"if({towards_source}, @translate_OUTPUT, @TARGET)"),
        "MODEL": c("train_segmenter", "OUTPUT"), "OVERLAP": v(32),
        "BATCH_SIZE": p("BATCH_SIZE"), "DEVICE": p("DEVICE"),
    }, [("OUTPUT", "CLASSIFIED", "Classified target")])
    child("evaluate", "lrm:evaluate", 480, 800, {
        "PREDICTION": c("classify", "OUTPUT"), "REFERENCE": p("TARGET_REFERENCE"),
        "LABEL_FORMAT": p("LABEL_FORMAT"),
    }, [("OUTPUT_HTML", "EVALUATION_HTML", "Evaluation report"),
        ("OUTPUT_TABLE", "EVALUATION_TABLE", "Evaluation table")])
    return model


def main():
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    plugins = os.path.join(ROOT, "build", "qgis_plugins")
    os.makedirs(plugins, exist_ok=True)
    link = os.path.join(plugins, "lrm_adapt")
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    sys.path.insert(0, plugins)
    import lrm_adapt

    plugin = lrm_adapt.classFactory(None)
    plugin.initProcessing()
    model = build()
    problems = {cid: model.validateChildAlgorithm(cid) for cid in model.childAlgorithms()}
    bad = {cid: msgs for cid, (ok, msgs) in problems.items() if not ok}
    if bad:
        raise SystemExit(f"model does not validate: {bad}")
    if not model.toFile(OUTPUT):
        raise SystemExit(f"could not write {OUTPUT}")
    print(f"wrote {OUTPUT} ({len(model.childAlgorithms())} steps)")
    plugin.unload()


if __name__ == "__main__":
    main()
