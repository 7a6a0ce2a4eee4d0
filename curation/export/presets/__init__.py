"""The registry of trainer presets: name -> preset instance (SFT, preference pairs, KTO).

Adding a preset is one module with a `Preset` subclass and one line in `_PRESETS` below.
"""

from __future__ import annotations

from curation.errors import ExportError
from curation.export.presets.base import TASKS, Preset
from curation.export.presets.chat_template import AxolotlPreset, TrlMessagesPreset
from curation.export.presets.hf_dataset import HfDatasetPreset
from curation.export.presets.llama_factory import (
    LlamaFactoryAlpacaPreset,
    LlamaFactorySharegptPreset,
)
from curation.export.presets.openai import OpenAIPreset
from curation.export.presets.plain import AlpacaPreset, SharegptPreset
from curation.export.presets.preference import (
    LlamaFactoryKtoPreset,
    LlamaFactoryRankingPreset,
    OpenAIDpoPreset,
    TrlDpoPreset,
    TrlKtoPreset,
)
from curation.export.presets.prompt_completion import TrlPromptCompletionPreset

_PRESETS: dict[str, Preset] = {}


def register_preset(preset: Preset) -> Preset:
    """Add a preset to the registry (its ``name`` must be new)."""
    if not preset.name or preset.name in _PRESETS:
        raise ExportError(f"preset name {preset.name!r} is empty or already registered")
    _PRESETS[preset.name] = preset
    return preset


register_preset(OpenAIPreset())
register_preset(TrlMessagesPreset())
register_preset(TrlPromptCompletionPreset())
register_preset(AxolotlPreset())
register_preset(LlamaFactoryAlpacaPreset())
register_preset(LlamaFactorySharegptPreset())
register_preset(SharegptPreset())
register_preset(AlpacaPreset())
register_preset(HfDatasetPreset())
register_preset(TrlDpoPreset())
register_preset(OpenAIDpoPreset())
register_preset(LlamaFactoryRankingPreset())
register_preset(TrlKtoPreset())
register_preset(LlamaFactoryKtoPreset())


def preset_names(task: str | None = None) -> list[str]:
    """Registered preset names, in registration order.

    Parameters
    ----------
    task:
        Only presets for this task: ``sft``, ``preference`` (chosen/rejected pairs) or ``kto``
        (labelled answers); every preset when None.

    Raises
    ------
    ExportError
        For a task that is not one of `TASKS`.
    """
    if task is None:
        return list(_PRESETS)
    if task not in TASKS:
        raise ExportError(f"unknown preset task {task!r}; choose one of {list(TASKS)}")
    return [name for name, preset in _PRESETS.items() if preset.task == task]


def get_preset(preset: str | Preset) -> Preset:
    """The preset for a name (or the preset itself).

    Raises
    ------
    ExportError
        Naming the unknown value and the registered names.
    """
    if isinstance(preset, Preset):
        return preset
    try:
        return _PRESETS[preset]
    except (KeyError, TypeError):
        raise ExportError(
            f"unknown export preset {preset!r}; choose one of {preset_names()}"
        ) from None


__all__ = ["TASKS", "Preset", "get_preset", "preset_names", "register_preset"]
