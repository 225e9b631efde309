//! QR codes of ticket codes, as SVG (ISO/IEC 18004 via the `qrcode` crate).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG image (`<svg …>…</svg>`, at least 240×240 px, with the quiet
/// zone) of a QR code holding `text` with error-correction level M (15 %),
/// which survives a scuffed phone screen or a creased printout.
///
/// Errors: `text` too long for any QR version (ticket codes are ~110 bytes;
/// the limit at level M is 2331 bytes).
pub fn svg(text: &str) -> anyhow::Result<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_an_svg() {
        let s = super::svg("t1.tkt_01jabcdefghjkmnpqrstvwxyz0.evt_01jabcdefghjkmnpqrstvwxyz0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert!(s.contains("<svg") && s.ends_with("</svg>"), "{}", &s[..80]);
        assert!(super::svg(&"x".repeat(5000)).is_err());
    }
}
