"""train-translator: train a one-shot translator (LRM by default) and save its model file."""

from ..flags import add_contract_flags

HELP = "train a one-shot image-to-image translator (SOURCE -> style of one TARGET patch)"


def add_arguments(parser):
    add_contract_flags(parser, "train-translator")


def run(args, reporter):
    from ...translation.config import TranslatorConfig
    from ...translation.registry import get_method

    from ...training.report import check_report_path, report_or_warn, write_translator_report

    check_report_path(args.output_html)
    config = TranslatorConfig.from_args(args).validate()
    method = get_method(config.method)
    result = method.train(config, reporter)
    if args.output_html:
        result["output_html"] = report_or_warn(
            reporter, write_translator_report, args.output_html, result["output"],
            list(config.sources), result)
    return result
