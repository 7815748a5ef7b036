# Convenience targets; each script also works on its own (see README.md).
.PHONY: setup test demo benchmark clean
setup:
	bash scripts/setup.sh
test:
	bash scripts/test.sh
demo:
	bash scripts/demo.sh
benchmark:
	bash scripts/setup.sh && .venv/bin/python benchmarks/bench_translator.py && .venv/bin/python benchmarks/bench_segmenter.py
clean:
	rm -rf build out .pytest_cache .qgis-settings
