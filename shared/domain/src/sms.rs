//! SMS length. One segment holds 160 GSM-7 characters, or 70 when the text needs Unicode
//! (UCS-2). Longer texts go out as a multi-part SMS, reassembled by the phone and billed per
//! segment (153 or 67 characters each). We send at most 10 segments: a longer text is cut,
//! ending with an ellipsis, and the delivery still counts as delivered.

pub const MAX_SEGMENTS: usize = 10;

/// The GSM 03.38 basic character set (the extension table's characters count twice).
fn gsm_units(c: char) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENDED: &str = "^{}\\[~]|€\u{c}";
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Whether the whole text fits the GSM-7 alphabet.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm_units(c).is_some())
}

/// Segments a text takes.
pub fn segments(text: &str) -> usize {
    let (single, multi, units) = if is_gsm7(text) {
        (
            160,
            153,
            text.chars().map(|c| gsm_units(c).unwrap_or(1)).sum::<usize>(),
        )
    } else {
        (70, 67, text.encode_utf16().count())
    };
    if units <= single { 1 } else { units.div_ceil(multi) }
}

/// The text as sent: unchanged when it fits in `MAX_SEGMENTS`, else cut to fit with an
/// ellipsis ("..." keeps a GSM-7 text in its cheaper alphabet).
pub fn fit_sms(text: &str) -> String {
    if segments(text) <= MAX_SEGMENTS {
        return text.to_owned();
    }
    let gsm = is_gsm7(text);
    let (ellipsis, budget) = if gsm {
        ("...", MAX_SEGMENTS * 153 - 3)
    } else {
        ("…", MAX_SEGMENTS * 67 - 1)
    };
    let mut used = 0;
    let mut cut = String::new();
    for c in text.chars() {
        used += if gsm {
            gsm_units(c).unwrap_or(1)
        } else {
            c.len_utf16()
        };
        if used > budget {
            break;
        }
        cut.push(c);
    }
    cut.push_str(ellipsis);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_counts() {
        assert_eq!(segments("Your order shipped"), 1);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        assert_eq!(segments(&"€".repeat(80)), 1, "extension characters count twice");
        assert_eq!(segments(&"😀".repeat(35)), 1, "emoji are two UCS-2 units");
        assert_eq!(segments(&"ж".repeat(71)), 2);
    }

    #[test]
    fn long_texts_are_cut_to_ten_segments() {
        let short = "a".repeat(500);
        assert_eq!(fit_sms(&short), short);
        let long = fit_sms(&"a".repeat(5000));
        assert_eq!(segments(&long), MAX_SEGMENTS);
        assert!(long.ends_with("..."));
        let unicode = fit_sms(&"ж".repeat(2000));
        assert_eq!(segments(&unicode), MAX_SEGMENTS);
        assert!(unicode.ends_with('…'));
    }
}
