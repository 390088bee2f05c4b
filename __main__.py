"""ai-platform: validate the stack's config, build the platform, export its outputs."""

from stacks.config import load_stack_config
from stacks.platform import build_platform

build_platform(load_stack_config()).export()
