//! Request signing between nodes (`src/node/httpsig.rs`, `docs/FORMAT.md`
//! 12): the RFC 9421 Ed25519 test vector (appendix B.2.6), a signed request
//! verifies, and every way of tampering with one is refused: missing or
//! malformed headers, wrong label, components or parameters, another
//! algorithm, clock and window violations, a changed body, method,
//! authority, path or query, an unknown key, small-order keys and
//! non-canonical signatures, replays, oversized headers; the replay cache
//! is bounded. A proptest mutates every byte of a signed request.

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use proptest::prelude::*;
use vereffen::ledger::keys::SMALL_ORDER_POINTS;
use vereffen::ledger::sigs::{verify_strict, SigFailure};
use vereffen::node::httpsig::*;

// --- RFC 9421 appendix B.2.6 (key of B.1.4), from /work/shared/refs/rfc9421-ed25519-vector.md.

const VECTOR_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
";
const VECTOR_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
";
const VECTOR_BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT
\"@method\": POST
\"@path\": /foo
\"@authority\": example.com
\"content-type\": application/json
\"content-length\": 18
\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
const VECTOR_INPUT: &str = "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
const VECTOR_SIGNATURE: &str =
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";

fn hdr(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

#[test]
fn rfc9421_ed25519_vector() {
    let key = SigningKey::from_pkcs8_pem(VECTOR_PRIVATE).unwrap();
    let public = VerifyingKey::from_public_key_pem(VECTOR_PUBLIC).unwrap();
    assert_eq!(key.verifying_key(), public);
    let body = br#"{"hello": "world"}"#;
    assert_eq!(body.len(), 18);
    let req =
        RequestParts { method: "POST", authority: "example.com", path_and_query: "/foo?param=Value&Pet=dog", body };
    let headers = vec![
        hdr("host", "example.com"),
        hdr("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        hdr("content-type", "application/json"),
        hdr(
            "content-digest",
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        ),
        hdr("content-length", "18"),
    ];
    let covered = ["date", "@method", "@path", "@authority", "content-type", "content-length"];
    let params = signature_params(
        &covered,
        &[("created", ParamValue::Integer(1618884473)), ("keyid", ParamValue::String("test-key-ed25519".into()))],
    )
    .unwrap();
    assert_eq!(format!("sig-b26={params}"), VECTOR_INPUT);
    let base = signature_base(&req, &headers, &covered, &params).unwrap();
    assert_eq!(base, VECTOR_BASE, "the signature base, byte for byte");
    let b64 = VECTOR_SIGNATURE.strip_prefix("sig-b26=:").unwrap().strip_suffix(':').unwrap();
    let expected = Signature::from_slice(&data_encoding::BASE64.decode(b64.as_bytes()).unwrap()).unwrap();
    assert_eq!(verify_strict(&public, base.as_bytes(), &expected), Ok(()), "the vector's signature verifies");
    assert_eq!(key.sign(base.as_bytes()), expected, "our signing reproduces it (ed25519 is deterministic)");
    // The body's SHA-256 in RFC 9530 form (RFC 9530 appendix B.1 uses this body).
    assert_eq!(content_digest(body), "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
}

#[test]
fn the_general_base_builder_refuses_what_it_cannot_build() {
    let req = RequestParts { method: "GET", authority: "a.example", path_and_query: "/", body: b"" };
    let headers = vec![hdr("date", "x"), hdr("x-two", "a "), hdr("x-two", " b")];
    let params = signature_params(&["date"], &[]).unwrap();
    assert_eq!(signature_base(&req, &headers, &["x-two"], "()").unwrap(), "\"x-two\": a, b\n\"@signature-params\": ()");
    assert_eq!(
        signature_base(&req, &headers, &["@query", "@path"], "()").unwrap(),
        "\"@query\": ?\n\"@path\": /\n\"@signature-params\": ()"
    );
    assert!(matches!(signature_base(&req, &headers, &["absent"], &params), Err(HttpSigError::Component { .. })));
    assert!(matches!(signature_base(&req, &headers, &["@target-uri"], &params), Err(HttpSigError::Component { .. })));
    assert!(matches!(signature_base(&req, &headers, &["date", "date"], &params), Err(HttpSigError::Component { .. })));
    let newline = vec![hdr("date", "x\n\"@method\": POST")];
    assert!(matches!(signature_base(&req, &newline, &["date"], &params), Err(HttpSigError::Malformed { .. })));
    assert!(signature_params(&["Date"], &[]).is_err());
    assert!(signature_params(&["date"], &[("created", ParamValue::Integer(i64::MIN))]).is_err());
    assert!(signature_params(&["date"], &[("a", ParamValue::Integer(1)), ("a", ParamValue::Integer(2))]).is_err());
    assert!(signature_params(&["date"], &[("keyid", ParamValue::String("new\nline".into()))]).is_err());
}

// --- Our own requests.

const NOW: i64 = 1_800_000_000;
const NONCE: &str = "n0nce-0123456789_abcdef";

fn signer() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn key_id() -> String {
    vereffen::audit::witness::key_name("ziekenhuis-oost", &signer().verifying_key())
}

fn request(body: &[u8]) -> RequestParts<'_> {
    RequestParts { method: "POST", authority: "node.example:8443", path_and_query: "/v1/ledgers/l1/entries?x=1", body }
}

const BODY: &[u8] = b"{\"a\":1}\n{\"b\":2}\n";

/// The lookup of a server that knows only `signer()` under `key_id()`.
fn lookup(id: &str) -> Option<VerifyingKey> {
    (id == key_id()).then(|| signer().verifying_key())
}

fn signed(created: i64, expires: i64, nonce: &str) -> Vec<(String, String)> {
    sign_request(&request(BODY), &key_id(), &signer(), created, expires, nonce).pairs()
}

fn verify(req: &RequestParts, headers: &[(String, String)]) -> Result<VerifiedRequest, HttpSigError> {
    verify_request(req, headers, NOW, &lookup)
}

fn with(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| if n == name { (n.clone(), value.to_string()) } else { (n.clone(), v.clone()) })
        .collect()
}

fn without(headers: &[(String, String)], name: &str) -> Vec<(String, String)> {
    headers.iter().filter(|(n, _)| n != name).cloned().collect()
}

fn input_of(headers: &[(String, String)]) -> String {
    headers.iter().find(|(n, _)| n == "signature-input").unwrap().1.clone()
}

#[test]
fn a_signed_request_verifies() {
    let h = signed(NOW - 10, NOW + 200, NONCE);
    let id = key_id();
    assert_eq!(
        input_of(&h),
        format!(
            "vereffen=(\"@method\" \"@authority\" \"@path\" \"@query\" \"content-digest\");created={};expires={};nonce=\"{NONCE}\";keyid=\"{id}\";alg=\"ed25519\"",
            NOW - 10,
            NOW + 200
        )
    );
    let v = verify(&request(BODY), &h).unwrap();
    assert_eq!(
        v,
        VerifiedRequest {
            key_id: id,
            key: signer().verifying_key(),
            created: NOW - 10,
            expires: NOW + 200,
            nonce: NONCE.into()
        }
    );
    // Other headers and other labels in the dictionaries are ignored.
    let mut more = h.clone();
    more.push(hdr("accept", "application/json"));
    let more = with(&more, "signature-input", &format!("other=(\"@method\");created=1, {}", input_of(&h)));
    assert!(verify(&request(BODY), &more).is_ok());
    // An empty body is signed and checked too.
    let empty = RequestParts { method: "GET", authority: "n", path_and_query: "/v1/ledgers", body: b"" };
    let he = sign_request(&empty, &key_id(), &signer(), NOW, NOW + 1, NONCE).pairs();
    assert_eq!(he[2].1, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
    assert!(verify(&empty, &he).is_ok());
    // A random nonce is acceptable.
    let n = random_nonce();
    assert_ne!(n, random_nonce());
    assert!(verify(&request(BODY), &signed(NOW, NOW + 60, &n)).is_ok());
}

#[test]
fn missing_duplicate_and_oversized_headers_are_refused() {
    let h = signed(NOW, NOW + 60, NONCE);
    for name in ["signature-input", "signature", "content-digest"] {
        assert_eq!(
            verify(&request(BODY), &without(&h, name)),
            Err(HttpSigError::Missing(match name {
                "signature-input" => "signature-input",
                "signature" => "signature",
                _ => "content-digest",
            }))
        );
        let mut twice = h.clone();
        twice.push(h.iter().find(|(n, _)| n == name).unwrap().clone());
        assert_eq!(verify(&request(BODY), &twice), Err(HttpSigError::Duplicate(name.into())), "{name}");
        let mut big = h.iter().find(|(n, _)| n == name).unwrap().1.clone();
        big.push_str(&" ".repeat(MAX_HEADER_BYTES));
        let err = verify(&request(BODY), &with(&h, name, &big)).unwrap_err();
        assert!(matches!(err, HttpSigError::TooLarge { .. }), "{name}: {err}");
    }
    assert!(verify(&request(BODY), &[]).is_err());
    // Upper-case names are a caller's mistake, said so.
    let upper: Vec<_> = h.iter().map(|(n, v)| (n.to_uppercase(), v.clone())).collect();
    assert!(matches!(verify(&request(BODY), &upper), Err(HttpSigError::Malformed { .. })));
}

#[test]
fn malformed_structured_fields_and_wrong_labels_are_refused() {
    let h = signed(NOW, NOW + 60, NONCE);
    let input = input_of(&h);
    for bad in [
        "",
        "vereffen",
        "vereffen=(\"@method\"",
        "vereffen=\"@method\"",
        "Vereffen=()",
        "vereffen=(), vereffen=()",
        "vereffen=();created=1;created=2",
        "vereffen=();keyid=\"a\\zb\"",
        &format!("{input},"),
        &input.replace(";created", ";created=1;created"),
    ] {
        let err = verify(&request(BODY), &with(&h, "signature-input", bad)).unwrap_err();
        assert!(
            matches!(
                err,
                HttpSigError::Malformed { .. } | HttpSigError::NoLabel(_) | HttpSigError::WrongComponents { .. }
            ),
            "{bad:?}: {err:?}"
        );
    }
    let relabelled = input.replacen("vereffen=", "sig1=", 1);
    assert_eq!(
        verify(&request(BODY), &with(&h, "signature-input", &relabelled)),
        Err(HttpSigError::NoLabel("signature-input"))
    );
    let sig = h[1].1.replacen("vereffen=", "sig1=", 1);
    assert_eq!(verify(&request(BODY), &with(&h, "signature", &sig)), Err(HttpSigError::NoLabel("signature")));
    for bad in ["vereffen=:AAAA:", "vereffen=abc", "vereffen=:not base64:", &format!("{};x=1", h[1].1)] {
        let err = verify(&request(BODY), &with(&h, "signature", bad)).unwrap_err();
        assert!(matches!(err, HttpSigError::Malformed { .. }), "{bad:?}: {err:?}");
    }
    let digest = &h[2].1;
    for bad in ["sha-256=abc", "sha-512=:AAAA:", &format!("{digest}, sha-512=:AAAA:"), "sha-256=:AAAA:"] {
        let err = verify(&request(BODY), &with(&h, "content-digest", bad)).unwrap_err();
        assert!(matches!(err, HttpSigError::Malformed { .. }), "{bad:?}: {err:?}");
    }
}

#[test]
fn wrong_components_params_and_algorithms_are_refused() {
    let h = signed(NOW, NOW + 60, NONCE);
    let input = input_of(&h);
    let fewer = input.replace(" \"content-digest\"", "");
    assert!(matches!(
        verify(&request(BODY), &with(&h, "signature-input", &fewer)),
        Err(HttpSigError::WrongComponents { .. })
    ));
    let reordered = input.replace("\"@method\" \"@authority\"", "\"@authority\" \"@method\"");
    assert!(matches!(
        verify(&request(BODY), &with(&h, "signature-input", &reordered)),
        Err(HttpSigError::WrongComponents { .. })
    ));
    let with_param = input.replace("\"@query\"", "\"@query\";req");
    assert!(matches!(
        verify(&request(BODY), &with(&h, "signature-input", &with_param)),
        Err(HttpSigError::WrongComponents { .. })
    ));
    for (from, to, param) in [
        (";nonce=", ";tag=\"x\";nonce=", "tag"),
        (&format!(";nonce=\"{NONCE}\""), "", "nonce"),
        (";keyid=", ";x=1;keyid=", "x"),
        (&format!(";created={NOW}"), "", "created"),
        (&format!(";expires={}", NOW + 60), "", "expires"),
        (&format!(";created={NOW}"), ";created=\"now\"", "created"),
        (";alg=\"ed25519\"", "", "alg"),
        (&format!(";nonce=\"{NONCE}\""), ";nonce=\"short\"", "nonce"),
        (&format!(";nonce=\"{NONCE}\""), ";nonce=\"has space in it, long enough\"", "nonce"),
        (";keyid=\"", ";keyid=\"\" ;x=\"", "keyid"),
    ] {
        let changed = input.replace(from, to);
        assert_ne!(changed, input);
        match verify(&request(BODY), &with(&h, "signature-input", &changed)) {
            Err(HttpSigError::Param { name, .. }) => assert_eq!(name, param, "{changed}"),
            Err(HttpSigError::Malformed { .. }) if param == "keyid" => {}
            other => panic!("{changed}: {other:?}"),
        }
    }
    let empty_id = input.replace(&format!("keyid=\"{}\"", key_id()), "keyid=\"\"");
    assert!(matches!(verify(&request(BODY), &with(&h, "signature-input", &empty_id)), Err(HttpSigError::Param { .. })));
    for alg in ["rsa-pss-sha512", "hmac-sha256", "ED25519", "ed25519ph"] {
        let changed = input.replace("alg=\"ed25519\"", &format!("alg=\"{alg}\""));
        assert_eq!(
            verify(&request(BODY), &with(&h, "signature-input", &changed)),
            Err(HttpSigError::UnsupportedAlg(alg.into()))
        );
    }
}

#[test]
fn clock_and_window_are_enforced() {
    let ok = |created, expires| verify(&request(BODY), &signed(created, expires, NONCE));
    assert!(ok(NOW, NOW).is_ok(), "a request is valid up to and including its expiry second");
    assert!(ok(NOW - MAX_VALIDITY_SECS, NOW).is_ok());
    assert!(ok(NOW + MAX_SKEW_SECS, NOW + MAX_SKEW_SECS + 1).is_ok(), "a clock ahead by the allowed skew");
    assert_eq!(ok(NOW - 100, NOW - 1), Err(HttpSigError::Expired { expires: NOW - 1, now: NOW }));
    assert_eq!(
        ok(NOW + MAX_SKEW_SECS + 1, NOW + MAX_SKEW_SECS + 2),
        Err(HttpSigError::TooEarly { created: NOW + MAX_SKEW_SECS + 1, now: NOW })
    );
    assert_eq!(
        ok(NOW, NOW + MAX_VALIDITY_SECS + 1),
        Err(HttpSigError::BadWindow { created: NOW, expires: NOW + MAX_VALIDITY_SECS + 1 })
    );
    assert_eq!(ok(NOW, NOW - 1), Err(HttpSigError::BadWindow { created: NOW, expires: NOW - 1 }));
    // No overflow at the edges of the clock.
    assert!(verify_request(&request(BODY), &signed(NOW, NOW + 1, NONCE), i64::MAX, &lookup).is_err());
    assert!(verify_request(&request(BODY), &signed(NOW, NOW + 1, NONCE), i64::MIN, &lookup).is_err());
}

#[test]
fn changed_body_method_authority_path_and_query_are_refused() {
    let h = signed(NOW, NOW + 60, NONCE);
    assert_eq!(verify(&request(b"{\"a\":2}\n{\"b\":2}\n"), &h), Err(HttpSigError::BadDigest));
    assert_eq!(verify(&request(b""), &h), Err(HttpSigError::BadDigest));
    // A body swapped together with its digest still breaks the signature.
    let other = b"something else";
    let swapped = with(&h, "content-digest", &content_digest(other));
    assert_eq!(verify(&request(other), &swapped), Err(HttpSigError::BadSignature(SigFailure::Mismatch)));
    let base = request(BODY);
    for changed in [
        RequestParts { method: "PUT", ..base },
        RequestParts { method: "post", ..base },
        RequestParts { authority: "node.example", ..base },
        RequestParts { authority: "other.example:8443", ..base },
        RequestParts { path_and_query: "/v1/ledgers/l2/entries?x=1", ..base },
        RequestParts { path_and_query: "/v1/ledgers/l1/entries?x=2", ..base },
        RequestParts { path_and_query: "/v1/ledgers/l1/entries", ..base },
        RequestParts { path_and_query: "/v1/ledgers/l1/entries?", ..base },
        RequestParts { path_and_query: "/v1/ledgers/l1/entries/?x=1", ..base },
    ] {
        assert_eq!(verify(&changed, &h), Err(HttpSigError::BadSignature(SigFailure::Mismatch)), "{changed:?}");
    }
    for bad in [
        RequestParts { method: "", ..base },
        RequestParts { method: "PO ST", ..base },
        RequestParts { method: "PO(ST", ..base },
        RequestParts { authority: "node.example\n\"@path\": /", ..base },
        RequestParts { path_and_query: "v1/ledgers", ..base },
        RequestParts { path_and_query: "/v1/é", ..base },
    ] {
        assert!(matches!(verify(&bad, &h), Err(HttpSigError::BadPart { .. })), "{bad:?}");
    }
    let long = format!("/{}", "a".repeat(MAX_PART_BYTES));
    assert!(matches!(verify(&RequestParts { path_and_query: &long, ..base }, &h), Err(HttpSigError::BadPart { .. })));
}

#[test]
fn unknown_keys_wrong_keys_and_weak_signatures_are_refused() {
    let h = signed(NOW, NOW + 60, NONCE);
    assert_eq!(verify_request(&request(BODY), &h, NOW, &|_| None), Err(HttpSigError::UnknownKey(key_id())));
    // The keyid names a key the server knows, but another key signed.
    let other = SigningKey::from_bytes(&[9u8; 32]);
    let forged = sign_request(&request(BODY), &key_id(), &other, NOW, NOW + 60, NONCE).pairs();
    assert_eq!(verify(&request(BODY), &forged), Err(HttpSigError::BadSignature(SigFailure::Mismatch)));

    let sig_header = |sig: &Signature| format!("vereffen=:{}:", data_encoding::BASE64.encode(&sig.to_bytes()));
    let bytes32 =
        |hex: &str| -> [u8; 32] { data_encoding::HEXLOWER.decode(hex.as_bytes()).unwrap().try_into().unwrap() };
    // A small-order key and R = identity, S = 0, which the plain equation accepts.
    let identity_sig = Signature::from_components(bytes32(SMALL_ORDER_POINTS[0]), [0; 32]);
    let weak_headers = with(&h, "signature", &sig_header(&identity_sig));
    for hex in SMALL_ORDER_POINTS {
        let weak = VerifyingKey::from_bytes(&bytes32(hex)).unwrap();
        let got = verify_request(&request(BODY), &weak_headers, NOW, &|_| Some(weak));
        assert_eq!(got, Err(HttpSigError::BadSignature(SigFailure::KeySmallOrder)), "{hex}");
    }
    // S + l: the same equation holds, but S is not canonical.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let b64 = h[1].1.strip_prefix("vereffen=:").unwrap().strip_suffix(':').unwrap();
    let good = Signature::from_slice(&data_encoding::BASE64.decode(b64.as_bytes()).unwrap()).unwrap();
    let mut s = *good.s_bytes();
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let v = u16::from(*b) + u16::from(l) + carry;
        *b = v as u8;
        carry = v >> 8;
    }
    let malleated = Signature::from_components(*good.r_bytes(), s);
    let got = verify(&request(BODY), &with(&h, "signature", &sig_header(&malleated)));
    assert_eq!(got, Err(HttpSigError::BadSignature(SigFailure::SNonCanonical)));
    // R of small order under the real key.
    let small_r = Signature::from_components(bytes32(SMALL_ORDER_POINTS[4]), [0; 32]);
    let got = verify(&request(BODY), &with(&h, "signature", &sig_header(&small_r)));
    assert_eq!(got, Err(HttpSigError::BadSignature(SigFailure::RSmallOrder)));
}

fn verified(key_id: &str, nonce: &str, expires: i64) -> VerifiedRequest {
    VerifiedRequest {
        key_id: key_id.into(),
        key: signer().verifying_key(),
        created: expires - 60,
        expires,
        nonce: nonce.into(),
    }
}

#[test]
fn replays_are_refused_until_expiry_then_forgotten() {
    let mut cache = ReplayCache::new(100);
    let v = verify(&request(BODY), &signed(NOW, NOW + 60, NONCE)).unwrap();
    assert_eq!(cache.check_and_insert(&v, NOW), Ok(()));
    // The very same request again, at any time up to its expiry.
    let again = verify_request(&request(BODY), &signed(NOW, NOW + 60, NONCE), NOW + 60, &lookup).unwrap();
    assert_eq!(
        cache.check_and_insert(&again, NOW + 60),
        Err(HttpSigError::Replay { key_id: key_id(), nonce: NONCE.into() })
    );
    // Another nonce, or the same nonce under another key, is fine.
    assert_eq!(cache.check_and_insert(&verified(&key_id(), "another-nonce-0000", NOW + 60), NOW), Ok(()));
    assert_eq!(cache.check_and_insert(&verified("zorgverzekeraar/AAAA-BBBB-CCCC-DDDD", NONCE, NOW + 60), NOW), Ok(()));
    assert_eq!(cache.len(), 3);
    // After expiry the pair is forgotten; the request itself is refused as expired.
    assert_eq!(cache.check_and_insert(&v, NOW + 61), Err(HttpSigError::Expired { expires: NOW + 60, now: NOW + 61 }));
    assert!(cache.is_empty(), "expired pairs are forgotten");
    assert!(verify_request(&request(BODY), &signed(NOW, NOW + 60, NONCE), NOW + 61, &lookup).is_err());
    // A new request that reuses the nonce after the old one expired is accepted.
    let later = verify_request(&request(BODY), &signed(NOW + 61, NOW + 120, NONCE), NOW + 61, &lookup).unwrap();
    assert_eq!(cache.check_and_insert(&later, NOW + 61), Ok(()));
}

#[test]
fn the_replay_cache_is_bounded_and_never_forgets_an_unexpired_nonce() {
    let mut cache = ReplayCache::new(3);
    for (i, exp) in [NOW + 10, NOW + 30, NOW + 20].into_iter().enumerate() {
        assert_eq!(cache.check_and_insert(&verified("k", &format!("nonce-{i:012}"), exp), NOW), Ok(()));
    }
    // Full of unexpired pairs: a new request is refused, nothing is forgotten.
    assert_eq!(
        cache.check_and_insert(&verified("k", "nonce-new-0000000", NOW + 40), NOW),
        Err(HttpSigError::ReplayCacheFull(3))
    );
    assert_eq!(cache.len(), 3);
    for i in 0..3 {
        let replay = verified("k", &format!("nonce-{i:012}"), NOW + 10);
        assert!(matches!(cache.check_and_insert(&replay, NOW + 10), Err(HttpSigError::Replay { .. })), "{i}");
    }
    // Once the oldest expiry passes, only that pair is evicted and there is room again.
    assert_eq!(cache.check_and_insert(&verified("k", "nonce-new-0000000", NOW + 40), NOW + 11), Ok(()));
    assert_eq!(cache.len(), 3);
    assert!(matches!(
        cache.check_and_insert(&verified("k", "nonce-000000000001", NOW + 30), NOW + 11),
        Err(HttpSigError::Replay { .. })
    ));
    assert!(matches!(
        cache.check_and_insert(&verified("k", "nonce-000000000002", NOW + 20), NOW + 11),
        Err(HttpSigError::Replay { .. })
    ));
    assert_eq!(
        cache.check_and_insert(&verified("k", "nonce-000000000000", NOW + 50), NOW + 11),
        Err(HttpSigError::ReplayCacheFull(3))
    );
    // Thousands of requests in a small cache: it never grows beyond its bound.
    let mut small = ReplayCache::new(50);
    let mut accepted = 0;
    for i in 0..5000i64 {
        let now = NOW + i / 10;
        if small.check_and_insert(&verified("k", &format!("n{i:020}"), now + 3), now).is_ok() {
            accepted += 1;
        }
        assert!(small.len() <= 50);
    }
    assert_eq!(accepted, 5000, "40 live pairs at a time fit");
    assert!(ReplayCache::new(0).check_and_insert(&verified("k", NONCE, NOW), NOW).is_err());
}

/// Which part of a signed request to mutate.
#[derive(Debug, Clone)]
enum Target {
    Method,
    Authority,
    Path,
    Body,
    HeaderName(usize),
    HeaderValue(usize),
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        Just(Target::Method),
        Just(Target::Authority),
        Just(Target::Path),
        Just(Target::Body),
        (0usize..3).prop_map(Target::HeaderName),
        (0usize..3).prop_map(Target::HeaderValue),
    ]
}

/// `s` with the byte at `at % len` replaced by a different ASCII byte.
fn mutate_str(s: &str, at: usize, to: u8) -> String {
    let mut b = s.as_bytes().to_vec();
    let i = at % b.len();
    let mut new = to & 0x7f;
    if new == b[i] {
        new = (new + 1) & 0x7f;
    }
    b[i] = new;
    String::from_utf8(b).expect("ASCII in, ASCII out")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any one-byte change to any part or header of a signed request makes
    /// verification fail.
    #[test]
    fn any_byte_mutation_fails(t in target(), at in any::<usize>(), to in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 1..64)) {
        let req = RequestParts { method: "POST", authority: "node.example:8443", path_and_query: "/v1/ledgers/l1/entries?start=0&count=256", body: &body };
        let headers = sign_request(&req, &key_id(), &signer(), NOW, NOW + 300, NONCE).pairs();
        prop_assert!(verify_request(&req, &headers, NOW, &lookup).is_ok());
        let (mut method, mut authority, mut path, mut new_body, mut new_headers) =
            (req.method.to_string(), req.authority.to_string(), req.path_and_query.to_string(), body.clone(), headers.clone());
        match t {
            Target::Method => method = mutate_str(&method, at, to),
            Target::Authority => authority = mutate_str(&authority, at, to),
            Target::Path => path = mutate_str(&path, at, to),
            Target::Body => { let i = at % new_body.len(); new_body[i] ^= to.max(1); }
            Target::HeaderName(h) => new_headers[h].0 = mutate_str(&new_headers[h].0, at, to),
            Target::HeaderValue(h) => new_headers[h].1 = mutate_str(&new_headers[h].1, at, to),
        }
        let changed = RequestParts { method: &method, authority: &authority, path_and_query: &path, body: &new_body };
        let got = verify_request(&changed, &new_headers, NOW, &lookup);
        prop_assert!(got.is_err(), "{:?} {:?} verified", changed, new_headers);
    }
}
