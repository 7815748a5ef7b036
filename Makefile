# Convenience targets; each script also works on its own (see README.md).
.PHONY: setup test demo benchmark clean package
setup:
	bash scripts/setup.sh
test:
	bash scripts/test.sh
demo:
	bash scripts/demo.sh
benchmark:
	bash scripts/setup.sh && .venv/bin/python benchmarks/bench_translator.py && .venv/bin/python benchmarks/bench_segmenter.py
package:
	bash scripts/package.sh
clean:
	rm -rf build out dist .pytest_cache .qgis-settings
# The paper's Table I protocol on your data (docs/protocol.md):
#   make protocol DATA=folder [OUT=out/protocol] [ARGS="--patches 10 --preset paper --device cuda"]
.PHONY: protocol
protocol:
	@test -n "$(DATA)" || { echo "usage: make protocol DATA=folder [OUT=out/protocol] [ARGS='--patches 10 --preset paper']"; exit 2; }
	bash scripts/setup.sh && .venv/bin/python benchmarks/protocol.py --data "$(DATA)" --out "$(or $(OUT),out/protocol)" $(ARGS)
