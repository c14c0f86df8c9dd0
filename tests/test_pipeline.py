"""GeneratePipeline's options: its own copy, and no method named like an option."""

from __future__ import annotations

import dataclasses

import pytest

from gesticulate.errors import OptionError
from gesticulate.pipeline import GenerateOptions, GeneratePipeline


def test_the_callers_options_are_left_as_they_were():
    mine = GenerateOptions(size=256)
    pipe = GeneratePipeline(mine, size=128, phones=False, renderer="pose")
    assert mine == GenerateOptions(size=256)
    assert (pipe.options.size, pipe.options.phones, pipe.options.renderer) == (128, False, "pose")
    other = GeneratePipeline(mine)
    assert other.options == mine and other.options is not mine


@pytest.mark.parametrize("overrides,match", [({"sise": 128}, "unknown option 'sise'"),
                                             ({"size": 1}, "--size 1 is out of range")])
def test_bad_overrides_are_refused_and_change_nothing(overrides, match):
    mine = GenerateOptions()
    with pytest.raises(OptionError, match=match):
        GeneratePipeline(mine, **overrides)
    assert mine == GenerateOptions()


def test_no_method_shares_a_name_with_an_option():
    clash = [f.name for f in dataclasses.fields(GenerateOptions)
             if hasattr(GeneratePipeline, f.name)]
    assert clash == []
