"""The pipeline engine: a YAML file compiled once into bound stages, and the runner."""

from lynkr.pipeline.compile import Pipeline, PipelineError, compile_file, compile_text, resolve
from lynkr.pipeline.runner import StageTiming, run_stages

__all__ = [
    "Pipeline",
    "PipelineError",
    "StageTiming",
    "compile_file",
    "compile_text",
    "resolve",
    "run_stages",
]
