"""Processing algorithms: one module per algorithm, thin over the backend worker."""

from .check_environment import CheckEnvironment
from .create_sample_data import CreateSampleData

ALGORITHMS = [
    CheckEnvironment,
    CreateSampleData,
]
