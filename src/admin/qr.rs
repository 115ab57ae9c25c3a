//! The QR code of an `otpauth://` URI as inline SVG, drawn on the server:
//! the Content-Security-Policy allows neither `data:` images nor script.

use qrcode::QrCode;
use qrcode::render::svg;

/// The `<svg>` element (without the XML declaration, to sit inside HTML),
/// labelled for screen readers; `None` if the text is too long for a QR code.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let start = image.find("<svg")?;
    Some(image[start..].replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code for an authenticator app\" class=\"qr\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_svg_element_without_declaration() {
        let svg = super::svg("otpauth://totp/authtoken:admin?secret=ABC&issuer=authtoken").unwrap();
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<?xml"));
        assert!(!svg.contains("data:"));
    }
}
