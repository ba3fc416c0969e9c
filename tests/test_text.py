import codecs

import pytest

from noiseclf.errors import InputError
from noiseclf.text import decode_scrape, normalize_line, read_scrape, split_lines


def test_split_lines_counts_like_the_labels_format():
    assert split_lines("a\n\nb\n") == ["a", "", "b"]
    assert split_lines("a\n\nb") == ["a", "", "b"]
    assert split_lines("") == []


def test_line_endings_and_boms_decode_to_the_same_text():
    plain = "Headline\n\nBody text.\n"
    variants = [
        plain.replace("\n", "\r\n").encode(),
        plain.replace("\n", "\r").encode(),
        codecs.BOM_UTF8 + plain.encode(),
        plain.encode("utf-16"),
    ]
    for data in variants:
        decoded = decode_scrape(data)
        assert decoded.text == plain and decoded.warnings == []


def test_invalid_utf8_is_replaced_with_a_warning():
    decoded = decode_scrape(b"caf\xe9 au lait\n", "x.txt")
    assert decoded.text == "caf\ufffd au lait\n"
    assert len(decoded.warnings) == 1 and "x.txt" in decoded.warnings[0]


def test_binary_and_missing_files_are_refused(tmp_path):
    gz = tmp_path / "page.txt.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)))
    with pytest.raises(InputError, match="gzip"):
        read_scrape(gz)
    with pytest.raises(InputError, match="no such file"):
        read_scrape(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_scrape(tmp_path)


def test_normalisation_folds_case_space_and_digits():
    assert normalize_line("  August 1,   2025 ") == "august 0, 0000"
    assert normalize_line("\uff28ello") == "hello"  # NFKC folds full-width letters


@pytest.mark.parametrize("codec, name", [("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")])
def test_utf16_without_bom_is_refused_naming_the_encoding_and_the_fix(codec, name):
    data = "Headline\n\nBody text of the article, with a caf\u00e9.\n".encode(codec)
    with pytest.raises(InputError) as exc:
        decode_scrape(data, "page.txt")
    message = str(exc.value)
    assert "\n" not in message and message.startswith("page.txt: ")
    assert f"{name} without a byte-order mark" in message
    assert f"iconv -f {name} -t UTF-8 page.txt" in message
    assert "binary" not in message


def test_utf16_detection_leaves_utf8_with_a_few_nuls_alone():
    decoded = decode_scrape(b"Head\x00line\nBody text.\x00\n", "x.txt")
    assert decoded.text == "Headline\nBody text.\n" and "NUL" in decoded.warnings[0]
    with pytest.raises(InputError, match="binary"):  # mostly NUL bytes everywhere: binary, not UTF-16
        decode_scrape(bytes(4000) + b"ab", "x.bin")
