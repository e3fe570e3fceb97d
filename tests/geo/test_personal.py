"""The one masking function for personal data, and spreadsheet-safe text."""

from __future__ import annotations

import pandas as pd

from geo.personal import mask_name, mask_personal, mask_phone, personal_columns
from geo.safe_text import safe_frame, spreadsheet_safe


def test_mask_phone_and_name():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone(13812341234) == "138****1234"
    assert mask_phone("027-8765 4321") == "027****4321"
    assert mask_phone("12345") == "*****" and mask_phone(None) == "" and mask_phone(float("nan")) == ""
    assert mask_name("张三丰") == "张**" and mask_name("李") == "李*" and mask_name(None) == ""


def test_mask_personal_masks_every_personal_column_and_leaves_input():
    df = pd.DataFrame({"case_id": ["C1", "C2"], "reporter_phone": ["13812341234", None],
                       "联系电话": ["15900001111", "x"], "reporter_name": ["王小明", "李"], "description": ["a", "b"]})
    assert personal_columns(df) == ["reporter_phone", "联系电话", "reporter_name"]
    out = mask_personal(df)
    assert out["reporter_phone"].tolist() == ["138****1234", ""]
    assert out["联系电话"].tolist() == ["159****1111", ""]
    assert out["reporter_name"].tolist() == ["王**", "李*"]
    assert out["description"].tolist() == ["a", "b"]
    assert df["reporter_phone"].iloc[0] == "13812341234"  # input untouched


def test_spreadsheet_safe():
    assert spreadsheet_safe("=1+1") == "'=1+1" and spreadsheet_safe("@x") == "'@x"
    assert spreadsheet_safe("-3") == "'-3" and spreadsheet_safe("\tx") == "'\tx"
    assert spreadsheet_safe("普通文本") == "普通文本" and spreadsheet_safe(-3) == -3
    df = pd.DataFrame({"name": ["=cmd()", "ok"], "n": [-1, 2], "=head": ["+a", None]})
    out = safe_frame(df)
    assert out["name"].tolist() == ["'=cmd()", "ok"] and out["n"].tolist() == [-1, 2]
    assert list(out.columns) == ["name", "n", "'=head"] and out["'=head"].iloc[0] == "'+a"
    assert df["name"].iloc[0] == "=cmd()"
