//! An organization's logo and colour: uploaded by its admins, re-encoded
//! by the node, shown on its pages and federated as the actor's icon.

use allmende_tests::{browser, client, login, spawn_app};
use reqwest::StatusCode;

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(width, height, image::Rgba([10, 60, 160, 255]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A multipart body with the CSRF token, a colour and a file.
fn multipart(csrf: &str, color: &str, file: &[u8], name: &str) -> (String, Vec<u8>) {
    let boundary = "allmende-branding-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"color\"\r\n\r\n{color}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    b: &reqwest::Client,
    url: String,
    csrf: &str,
    color: &str,
    file: &[u8],
    name: &str,
) -> reqwest::Response {
    let (content_type, body) = multipart(csrf, color, file, name);
    b.post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn logo_and_colour_are_checked_re_encoded_shown_and_federated() {
    let node = spawn_app().await;
    node.org_with_user("ulm", "Stadt Ulm", "admin@ulm.example", "admin")
        .await;
    node.user("redaktion@ulm.example", "ulm", "editor").await;

    let editor = browser();
    let csrf = login(&node, &editor, "redaktion@ulm.example").await;
    let res = upload(
        &editor,
        node.at("/orgs/ulm/branding"),
        &csrf,
        "#1a3da5",
        &png(10, 10),
        "logo.png",
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "editors do not");

    let admin = browser();
    let csrf = login(&node, &admin, "admin@ulm.example").await;
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
    let res = upload(
        &admin,
        node.at("/orgs/ulm/branding"),
        &csrf,
        "",
        svg,
        "logo.svg",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("SVG wird nicht angenommen"));
    let res = upload(
        &admin,
        node.at("/orgs/ulm/branding"),
        &csrf,
        "#ffdd00",
        &png(10, 10),
        "logo.png",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("zu hell für weiße Schrift"));
    assert_eq!(
        client()
            .get(node.at("/orgs/ulm/logo.png"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "nothing stored from refused forms"
    );

    let res = upload(
        &admin,
        node.at("/orgs/ulm/branding"),
        &csrf,
        "#0B5394",
        &png(900, 300),
        "logo.png",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let logo = client()
        .get(node.at("/orgs/ulm/logo.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    let stored = image::load_from_memory(&logo.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (stored.width(), stored.height()),
        (256, 85),
        "scaled to fit 256"
    );
    let css = client()
        .get(node.at("/orgs/ulm/brand.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(css.trim(), ":root { --brand: #0b5394; }");

    let page = client()
        .get(node.at("/orgs/ulm"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("href=\"/orgs/ulm/brand.css?v="),
        "colour on its page"
    );
    assert!(
        page.contains("src=\"/orgs/ulm/logo.png?v=") && page.contains("alt=\"Logo Stadt Ulm\"")
    );

    let actor: serde_json::Value = client()
        .get(node.at("/orgs/ulm"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(actor["icon"]["type"], "Image");
    assert_eq!(actor["icon"]["mediaType"], "image/png");
    assert!(actor["icon"]["url"]
        .as_str()
        .unwrap()
        .contains("/orgs/ulm/logo.png"));
}
