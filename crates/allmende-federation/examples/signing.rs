//! Benchmark: HTTP-signature signing rate on one core.
//!
//! `cargo run --release -p allmende-federation --example signing [seconds]`
//!
//! Prints two rates: the bare RSA-2048 PKCS#1 v1.5 SHA-256 signature
//! (comparable to `openssl speed rsa2048` "sign/s"), and the whole signing
//! path of one delivery (Date, Digest of a 2 KiB activity, signing string,
//! signature, headers). `bench/federation.sh` runs it beside OpenSSL.

use std::time::{Duration, Instant};

use allmende_federation::signatures::sign_post;
use allmende_federation::SigningKey;
use url::Url;

fn rate(seconds: f64, mut op: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        op();
        done += 1;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5.0);
    let key = SigningKey::generate()?;
    let message = b"(request-target): post /inbox\nhost: allmende.example.de\ndate: Sun, 22 Nov 2026 03:00:00 GMT\ncontent-type: application/activity+json\ndigest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    let bare = rate(seconds, || {
        key.sign(message).expect("sign");
    });
    let inbox = Url::parse("https://allmende.example.de/inbox")?;
    let body = vec![b'x'; 2048];
    let full = rate(seconds, || {
        sign_post(&key, "https://a.example/orgs/ulm#main-key", &inbox, &body).expect("sign");
    });
    println!("rsa2048_sign_per_s {bare:.0}");
    println!("request_sign_per_s {full:.0}");
    Ok(())
}
