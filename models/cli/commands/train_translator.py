"""train-translator: train a one-shot translator (LRM by default) and save its model file."""

from ..flags import add_contract_flags

HELP = "train a one-shot image-to-image translator (SOURCE -> style of one TARGET patch)"


def add_arguments(parser):
    add_contract_flags(parser, "train-translator")


def run(args, reporter):
    from ...errors import DeviceError
    from ...runtime.device_list import is_device_list
    from ...runtime.rank_launcher import launched_rank
    from ...translation.config import TranslatorConfig
    from ...translation.registry import get_method

    from ...training.report import check_report_path, report_or_warn, write_translator_report

    check_report_path(args.output_html)
    config = TranslatorConfig.from_args(args).validate()
    if config.method != "lrm" and (launched_rank() is not None or is_device_list(config.device)):
        raise DeviceError(f"METHOD {config.method} trains on one device; data-parallel training "
                          f"(a DEVICE list or torchrun) is for the lrm translator. Give one DEVICE.")
    method = get_method(config.method)
    result = method.train(config, reporter)
    if args.output_html and not launched_rank():  # rank 0 (or a single run) writes it
        result["output_html"] = report_or_warn(
            reporter, write_translator_report, args.output_html, result["output"],
            list(config.sources), result)
    return result
