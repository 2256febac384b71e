//! Request signing between nodes: HTTP Message Signatures (RFC 9421) with
//! ed25519, the narrow subset vereffen uses (`docs/FORMAT.md` 12).
//!
//! Implemented here rather than taken from a crate because the signature
//! check must be the ledger's one strict rule ([`verify_strict`]: canonical
//! key and `R`, `S < l`, no small order, the unbatched equation), which no
//! crate offers. The subset:
//!
//! * one signature, labelled [`LABEL`], covering exactly [`COVERED`]
//!   (`"@method" "@authority" "@path" "@query" "content-digest"`) with the
//!   parameters `created`, `expires`, `nonce`, `keyid` and `alg="ed25519"`;
//! * `Content-Digest: sha-256=:BASE64:` (RFC 9530) of the body, also for an
//!   empty body;
//! * the signature base of RFC 9421 section 2.5 (one line per covered
//!   component, `"@signature-params"` last, no trailing newline), signed
//!   with Ed25519 without pre-hash;
//! * Structured Field values (RFC 8941) parsed and serialized by the small
//!   parser below, stricter than RFC 8941 in three places: a dictionary key
//!   or parameter may not appear twice (RFC 8941 keeps the last), a byte
//!   sequence must be canonical padded base64 (no non-zero pad bits), and
//!   each of the three headers must come as one field line.
//!
//! [`verify_request`] checks one request against the clock and a key
//! lookup; [`ReplayCache`] then refuses a `(keyid, nonce)` pair seen before
//! while it has not expired. Every limit is a named constant.

use std::collections::{BTreeSet, HashMap};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::ledger::sigs::{verify_strict, SigFailure};

/// Signature label used in Signature-Input / Signature.
pub const LABEL: &str = "vereffen";
/// Largest clock difference accepted, in seconds: a request whose `created`
/// lies more than this after the verifier's clock is refused.
pub const MAX_SKEW_SECS: i64 = 60;
/// The longest validity window (`expires - created`), in seconds.
pub const MAX_VALIDITY_SECS: i64 = 300;
/// The only signature algorithm accepted (the `alg` parameter).
pub const ALG: &str = "ed25519";
/// The covered components, in the order they must be listed.
pub const COVERED: [&str; 5] = ["@method", "@authority", "@path", "@query", "content-digest"];
/// Largest value, in bytes, of a `signature-input`, `signature`,
/// `content-digest` or other covered header; larger ones are refused
/// before they are parsed.
pub const MAX_HEADER_BYTES: usize = 4096;
/// Largest method, authority or path-and-query, in bytes.
pub const MAX_PART_BYTES: usize = 8192;
/// Longest `keyid`, in bytes.
pub const MAX_KEY_ID_BYTES: usize = 256;
/// Shortest and longest `nonce`, in characters (of `A-Z a-z 0-9 - _`).
pub const MIN_NONCE_CHARS: usize = 16;
/// See [`MIN_NONCE_CHARS`].
pub const MAX_NONCE_CHARS: usize = 128;
/// Name of the header holding the signature parameters.
pub const HEADER_SIGNATURE_INPUT: &str = "signature-input";
/// Name of the header holding the signature.
pub const HEADER_SIGNATURE: &str = "signature";
/// Name of the header holding the body digest.
pub const HEADER_CONTENT_DIGEST: &str = "content-digest";
/// Largest integer a Structured Field may hold (RFC 8941 3.3.1).
const SF_MAX_INTEGER: i64 = 999_999_999_999_999;

/// The parts of a request that a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestParts<'a> {
    /// The method, as sent (`GET`, `POST`); compared byte for byte.
    pub method: &'a str,
    /// The authority the client addressed, `host[:port]`, as sent (the
    /// client sends it in normal form: lower-case host, no default port);
    /// compared byte for byte.
    pub authority: &'a str,
    /// The request target in origin form: the path, starting with `/`,
    /// and the query after `?` if there is one.
    pub path_and_query: &'a str,
    /// The body (empty for a GET).
    pub body: &'a [u8],
}

/// The three header values [`sign_request`] makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// Value of `Signature-Input`: `vereffen=(...);created=..;expires=..;nonce="..";keyid="..";alg="ed25519"`.
    pub signature_input: String,
    /// Value of `Signature`: `vereffen=:BASE64:`.
    pub signature: String,
    /// Value of `Content-Digest`: `sha-256=:BASE64:`.
    pub content_digest: String,
}

impl SignatureHeaders {
    /// The headers as (lower-case name, value) pairs, the form
    /// [`verify_request`] takes.
    pub fn pairs(&self) -> Vec<(String, String)> {
        vec![
            (HEADER_SIGNATURE_INPUT.to_string(), self.signature_input.clone()),
            (HEADER_SIGNATURE.to_string(), self.signature.clone()),
            (HEADER_CONTENT_DIGEST.to_string(), self.content_digest.clone()),
        ]
    }
}

/// A request whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The `keyid` parameter (`<party id>/<key fingerprint>`).
    pub key_id: String,
    /// The key the lookup gave for it, which made the signature.
    pub key: VerifyingKey,
    /// The `created` parameter (unix seconds).
    pub created: i64,
    /// The `expires` parameter (unix seconds).
    pub expires: i64,
    /// The `nonce` parameter.
    pub nonce: String,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpSigError {
    /// A required header is absent.
    #[error("the request has no `{0}` header: every request to a node must be signed (RFC 9421, label `vereffen`)")]
    Missing(&'static str),
    /// A header the signature needs came as more than one field line.
    #[error("the request has more than one `{0}` header; send exactly one")]
    Duplicate(String),
    /// A header value is over [`MAX_HEADER_BYTES`].
    #[error("the `{header}` header is {len} bytes, over the limit of {MAX_HEADER_BYTES} bytes")]
    TooLarge {
        /// The header.
        header: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A header is not a valid Structured Field of the expected shape.
    #[error("the `{header}` header is malformed: {why}")]
    Malformed {
        /// The header.
        header: String,
        /// What is wrong.
        why: String,
    },
    /// The signature headers carry no signature labelled [`LABEL`].
    #[error("the `{0}` header has no signature labelled `vereffen`")]
    NoLabel(&'static str),
    /// The method, authority or path is not acceptable.
    #[error("the request's {part} is not acceptable: {why}")]
    BadPart {
        /// Which part.
        part: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The signature does not cover exactly [`COVERED`].
    #[error("the signature covers ({found}); it must cover exactly (\"@method\" \"@authority\" \"@path\" \"@query\" \"content-digest\") in that order")]
    WrongComponents {
        /// The covered components as sent.
        found: String,
    },
    /// A covered component is absent from the request, or not supported.
    #[error("the covered component `{name}` cannot be used: {why}")]
    Component {
        /// The component name.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// A signature parameter is missing, repeated, unknown or of the wrong type.
    #[error("the signature parameter `{name}` is not acceptable: {why}")]
    Param {
        /// The parameter.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// The `alg` parameter is not [`ALG`].
    #[error("the signature algorithm is `{0}`; only `ed25519` is accepted")]
    UnsupportedAlg(String),
    /// The validity window is longer than [`MAX_VALIDITY_SECS`] or ends before it starts.
    #[error("the signature is valid from {created} to {expires}; the window must not end before it starts or last longer than {MAX_VALIDITY_SECS} s")]
    BadWindow {
        /// `created`.
        created: i64,
        /// `expires`.
        expires: i64,
    },
    /// The signature expired.
    #[error(
        "the signature expired at {expires} (unix seconds) and this node's clock says {now}: sign the request again"
    )]
    Expired {
        /// `expires`.
        expires: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// The signature was made more than [`MAX_SKEW_SECS`] in the future.
    #[error("the signature was created at {created} (unix seconds), more than {MAX_SKEW_SECS} s after this node's clock ({now}): check the clocks of both nodes")]
    TooEarly {
        /// `created`.
        created: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// The body does not match `Content-Digest`.
    #[error("the Content-Digest does not match the body: the body was changed after signing")]
    BadDigest,
    /// The lookup knows no key by this `keyid`.
    #[error("the key `{0}` is unknown here (not a live key of a registered party)")]
    UnknownKey(String),
    /// The signature does not verify under the strict rule.
    #[error(
        "the request signature does not verify ({0}): the request was changed after signing, or not signed by that key"
    )]
    BadSignature(SigFailure),
    /// The `(keyid, nonce)` pair was seen in an unexpired request.
    #[error("replayed request: key `{key_id}` already used nonce `{nonce}` in a request that has not expired")]
    Replay {
        /// `keyid`.
        key_id: String,
        /// `nonce`.
        nonce: String,
    },
    /// The replay cache is full of unexpired nonces.
    #[error(
        "too many recent requests: {0} unexpired nonces are remembered, the most allowed; try again once they expire"
    )]
    ReplayCacheFull(usize),
}

/// A parameter value for [`signature_params`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// A Structured Field integer.
    Integer(i64),
    /// A Structured Field string (printable ASCII).
    String(String),
}

/// The `Content-Digest` value of a body: `sha-256=:BASE64:` (RFC 9530).
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", data_encoding::BASE64.encode(&Sha256::digest(body)))
}

/// A fresh random nonce: 16 random bytes in base64url without padding
/// (22 characters).
pub fn random_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// Signs a request: the `Signature-Input`, `Signature` and `Content-Digest`
/// values to send with it. `created` and `expires` are unix seconds.
///
/// Never fails: inputs that [`verify_request`] refuses (a window longer
/// than [`MAX_VALIDITY_SECS`], a nonce outside `A-Z a-z 0-9 - _` or of the
/// wrong length, a `key_id` that is not printable ASCII, a path not
/// starting with `/`) give headers that do not verify.
pub fn sign_request(
    req: &RequestParts,
    key_id: &str,
    key: &SigningKey,
    created: i64,
    expires: i64,
    nonce: &str,
) -> SignatureHeaders {
    let digest = content_digest(req.body);
    let mut params_text = String::from("(");
    for (i, c) in COVERED.iter().enumerate() {
        if i > 0 {
            params_text.push(' ');
        }
        push_sf_string(&mut params_text, c);
    }
    params_text.push(')');
    params_text.push_str(&format!(";created={created};expires={expires};nonce="));
    push_sf_string(&mut params_text, nonce);
    params_text.push_str(";keyid=");
    push_sf_string(&mut params_text, key_id);
    params_text.push_str(";alg=");
    push_sf_string(&mut params_text, ALG);
    let lines: Vec<(&str, String)> = COVERED
        .iter()
        .map(|c| {
            let value = match *c {
                "content-digest" => digest.clone(),
                derived => derived_value(req, derived).unwrap_or_default(),
            };
            (*c, value)
        })
        .collect();
    let base = assemble_base(&lines, &params_text);
    let sig = key.sign(base.as_bytes());
    SignatureHeaders {
        signature_input: format!("{LABEL}={params_text}"),
        signature: format!("{LABEL}=:{}:", data_encoding::BASE64.encode(&sig.to_bytes())),
        content_digest: digest,
    }
}

/// Verifies a signed request at time `now` (unix seconds).
///
/// `headers` are (lower-case name, value) pairs as received; `lookup` maps
/// a keyid to its key (None = unknown). Checks, in this order: the request
/// parts; the three headers present once each and within
/// [`MAX_HEADER_BYTES`]; the [`LABEL`] member of `Signature-Input` covers
/// exactly [`COVERED`] with exactly the parameters `created`, `expires`,
/// `nonce`, `keyid`, `alg` (any order); `alg` is [`ALG`]; the window
/// (`created <= expires <= created +` [`MAX_VALIDITY_SECS`], `created <=
/// now +` [`MAX_SKEW_SECS`], `now <= expires`); the body digest; the key;
/// the signature under [`verify_strict`]. Replays are the caller's next
/// step: [`ReplayCache::check_and_insert`].
pub fn verify_request(
    req: &RequestParts,
    headers: &[(String, String)],
    now: i64,
    lookup: &dyn Fn(&str) -> Option<VerifyingKey>,
) -> Result<VerifiedRequest, HttpSigError> {
    check_parts(req)?;
    check_header_names(headers)?;
    let input = single_header(headers, HEADER_SIGNATURE_INPUT)?;
    let signature = single_header(headers, HEADER_SIGNATURE)?;
    let digest = single_header(headers, HEADER_CONTENT_DIGEST)?;

    let dict = parse_dictionary(input).map_err(|why| malformed(HEADER_SIGNATURE_INPUT, why))?;
    let member = dict.into_iter().find(|(k, _)| k == LABEL).ok_or(HttpSigError::NoLabel(HEADER_SIGNATURE_INPUT))?.1;
    let Member::Inner(items, params) = member else {
        return Err(malformed(
            HEADER_SIGNATURE_INPUT,
            "the `vereffen` member is not an inner list of components".into(),
        ));
    };
    check_components(&items)?;
    let p = SigParams::from(&params)?;
    if p.alg != ALG {
        return Err(HttpSigError::UnsupportedAlg(p.alg));
    }
    check_window(p.created, p.expires, now)?;
    check_nonce(&p.nonce)?;
    check_key_id(&p.key_id)?;

    let sig_dict = parse_dictionary(signature).map_err(|why| malformed(HEADER_SIGNATURE, why))?;
    let sig_member = sig_dict.into_iter().find(|(k, _)| k == LABEL).ok_or(HttpSigError::NoLabel(HEADER_SIGNATURE))?.1;
    let sig = match sig_member {
        Member::Item(Bare::Bytes(b), extra) if extra.is_empty() => Signature::from_slice(&b).map_err(|_| {
            malformed(HEADER_SIGNATURE, format!("the signature is {} bytes; an ed25519 signature is 64", b.len()))
        })?,
        _ => {
            return Err(malformed(HEADER_SIGNATURE, "the `vereffen` member is not a byte sequence (`:BASE64:`)".into()))
        }
    };

    check_digest(digest, req.body)?;
    let key = lookup(&p.key_id).ok_or_else(|| HttpSigError::UnknownKey(p.key_id.clone()))?;
    let params_text = serialize_inner_list(&items, &params);
    let base = signature_base(req, headers, &COVERED, &params_text)?;
    verify_strict(&key, base.as_bytes(), &sig).map_err(HttpSigError::BadSignature)?;
    Ok(VerifiedRequest { key_id: p.key_id, key, created: p.created, expires: p.expires, nonce: p.nonce })
}

/// The signature base of RFC 9421 section 2.5 for any `covered` list of
/// the components this module supports (`@method`, `@authority`, `@path`,
/// `@query` and header fields by lower-case name), and the serialized
/// signature parameters `signature_params` (the inner list with its
/// parameters, as in `Signature-Input` after `label=`; see
/// [`signature_params`]). One line `"name": value` per component, then
/// `"@signature-params": ...`, joined by LF, no trailing LF. A header field
/// that comes more than once is joined with `, ` (RFC 9421 2.1). Refuses
/// unacceptable request parts, duplicate or unknown components, missing
/// fields and field values that are not printable ASCII.
pub fn signature_base(
    req: &RequestParts,
    headers: &[(String, String)],
    covered: &[&str],
    signature_params: &str,
) -> Result<String, HttpSigError> {
    check_parts(req)?;
    check_header_names(headers)?;
    let mut lines = Vec::with_capacity(covered.len());
    for (i, name) in covered.iter().enumerate() {
        if covered[..i].contains(name) {
            return Err(component_error(name, "it is listed twice"));
        }
        let value = if name.starts_with('@') {
            derived_value(req, name)
                .ok_or_else(|| component_error(name, "only @method, @authority, @path and @query are supported"))?
        } else {
            field_value(headers, name)?
        };
        lines.push((*name, value));
    }
    if signature_params.bytes().any(|b| !(0x20..=0x7e).contains(&b)) {
        return Err(malformed(HEADER_SIGNATURE_INPUT, "the parameters hold a byte that is not printable ASCII".into()));
    }
    Ok(assemble_base(&lines, signature_params))
}

/// Serializes covered components and parameters as the Structured Field
/// inner list that follows `label=` in `Signature-Input` and ends the
/// signature base (RFC 9421 2.3), e.g.
/// `("@method" "@path");created=1618884473;keyid="k"`.
pub fn signature_params(covered: &[&str], params: &[(&str, ParamValue)]) -> Result<String, HttpSigError> {
    let items: Vec<(Bare, Params)> = covered.iter().map(|c| (Bare::Str(c.to_string()), Vec::new())).collect();
    for c in covered {
        if c.is_empty() || !c.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && !b.is_ascii_uppercase()) {
            return Err(component_error(c, "a component name is lower-case printable ASCII without quotes"));
        }
    }
    let mut ps: Params = Vec::new();
    for (k, v) in params {
        if !is_sf_key(k) || ps.iter().any(|(seen, _)| seen == k) {
            return Err(param_error(k, "a parameter name is a Structured Field key, used once"));
        }
        let bare = match v {
            ParamValue::Integer(n) if n.unsigned_abs() <= SF_MAX_INTEGER.unsigned_abs() => Bare::Int(*n),
            ParamValue::Integer(_) => return Err(param_error(k, "an integer has at most 15 digits")),
            ParamValue::String(s) if s.bytes().all(|b| (0x20..=0x7e).contains(&b)) => Bare::Str(s.clone()),
            ParamValue::String(_) => return Err(param_error(k, "a string is printable ASCII")),
        };
        ps.push((k.to_string(), bare));
    }
    Ok(serialize_inner_list(&items, &ps))
}

/// Remembers the `(keyid, nonce)` pairs of verified requests until they
/// expire, holding at most `max_entries`.
///
/// Bounded replay cache: (keyid, nonce) seen and not yet expired is
/// refused. Expired pairs are forgotten first, oldest expiry first (a
/// request after its `expires` is refused by [`verify_request`] anyway, so
/// forgetting it opens no replay). When the cache is full of unexpired
/// pairs, new requests are refused ([`HttpSigError::ReplayCacheFull`])
/// rather than forgetting an unexpired pair, which would let that request
/// be replayed: a flood costs availability, never a replay.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    max_entries: usize,
    expiry_of: HashMap<(String, String), i64>,
    by_expiry: BTreeSet<(i64, String, String)>,
}

impl ReplayCache {
    /// An empty cache holding at most `max_entries` pairs (0 refuses every
    /// request).
    pub fn new(max_entries: usize) -> Self {
        ReplayCache { max_entries, expiry_of: HashMap::new(), by_expiry: BTreeSet::new() }
    }

    /// Refuses a request whose `(keyid, nonce)` was seen and has not
    /// expired, or that has itself expired at `now`; otherwise remembers it
    /// until it expires.
    pub fn check_and_insert(&mut self, v: &VerifiedRequest, now: i64) -> Result<(), HttpSigError> {
        self.forget_expired(now);
        if now > v.expires {
            return Err(HttpSigError::Expired { expires: v.expires, now });
        }
        let pair = (v.key_id.clone(), v.nonce.clone());
        if self.expiry_of.contains_key(&pair) {
            return Err(HttpSigError::Replay { key_id: v.key_id.clone(), nonce: v.nonce.clone() });
        }
        if self.expiry_of.len() >= self.max_entries {
            return Err(HttpSigError::ReplayCacheFull(self.max_entries));
        }
        self.by_expiry.insert((v.expires, pair.0.clone(), pair.1.clone()));
        self.expiry_of.insert(pair, v.expires);
        debug_assert_eq!(self.expiry_of.len(), self.by_expiry.len());
        Ok(())
    }

    /// Pairs remembered now.
    pub fn len(&self) -> usize {
        self.expiry_of.len()
    }

    /// True if nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.expiry_of.is_empty()
    }

    /// Forgets every pair whose `expires` is before `now`, oldest first.
    fn forget_expired(&mut self, now: i64) {
        while let Some(first) = self.by_expiry.first() {
            if first.0 >= now {
                break;
            }
            if let Some((_, key_id, nonce)) = self.by_expiry.pop_first() {
                self.expiry_of.remove(&(key_id, nonce));
            }
        }
        assert_eq!(self.expiry_of.len(), self.by_expiry.len(), "replay cache indexes agree");
    }
}

// ---------------------------------------------------------------------------
// Checks of the request and the parameters.

fn malformed(header: &str, why: String) -> HttpSigError {
    HttpSigError::Malformed { header: header.to_string(), why }
}

fn component_error(name: &str, why: &str) -> HttpSigError {
    HttpSigError::Component { name: name.to_string(), why: why.to_string() }
}

fn param_error(name: &str, why: &str) -> HttpSigError {
    HttpSigError::Param { name: name.to_string(), why: why.to_string() }
}

fn bad_part(part: &'static str, why: &str) -> HttpSigError {
    HttpSigError::BadPart { part, why: why.to_string() }
}

/// Method is a token, authority and path-and-query are visible ASCII
/// (no space, no control character) and within [`MAX_PART_BYTES`]; the
/// path starts with `/`.
fn check_parts(req: &RequestParts) -> Result<(), HttpSigError> {
    for (part, value) in [("method", req.method), ("authority", req.authority), ("path", req.path_and_query)] {
        if value.is_empty() {
            return Err(bad_part(part, "it is empty"));
        }
        if value.len() > MAX_PART_BYTES {
            return Err(bad_part(part, &format!("it is longer than {MAX_PART_BYTES} bytes")));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad_part(part, "it holds a space, a control character or a byte that is not ASCII"));
        }
    }
    if !req.method.bytes().all(is_tchar) {
        return Err(bad_part("method", "it is not an HTTP token"));
    }
    if !req.path_and_query.starts_with('/') {
        return Err(bad_part("path", "it does not start with `/`"));
    }
    Ok(())
}

/// Header names must be passed lower-case (as `http::HeaderName` gives them).
fn check_header_names(headers: &[(String, String)]) -> Result<(), HttpSigError> {
    match headers.iter().find(|(n, _)| n.bytes().any(|b| b.is_ascii_uppercase())) {
        Some((n, _)) => Err(malformed(n, "header names must be passed lower-case".into())),
        None => Ok(()),
    }
}

/// The value of a header that must come exactly once, trimmed of
/// surrounding spaces and tabs.
fn single_header<'h>(headers: &'h [(String, String)], name: &'static str) -> Result<&'h str, HttpSigError> {
    let mut found = headers.iter().filter(|(n, _)| n == name);
    let (_, value) = found.next().ok_or(HttpSigError::Missing(name))?;
    if found.next().is_some() {
        return Err(HttpSigError::Duplicate(name.to_string()));
    }
    if value.len() > MAX_HEADER_BYTES {
        return Err(HttpSigError::TooLarge { header: name.to_string(), len: value.len() });
    }
    Ok(value.trim_matches([' ', '\t']))
}

/// The value of a covered header field: every field line of that name,
/// trimmed, joined by `, `.
fn field_value(headers: &[(String, String)], name: &str) -> Result<String, HttpSigError> {
    let mut values = Vec::new();
    for (_, v) in headers.iter().filter(|(n, _)| n == name) {
        if v.len() > MAX_HEADER_BYTES {
            return Err(HttpSigError::TooLarge { header: name.to_string(), len: v.len() });
        }
        let v = v.trim_matches([' ', '\t']);
        if !v.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(malformed(name, "the value holds a control character or a byte that is not ASCII".into()));
        }
        values.push(v);
    }
    if values.is_empty() {
        return Err(component_error(name, "the request has no such header"));
    }
    Ok(values.join(", "))
}

/// `@method`, `@authority`, `@path` (no query; `/` if empty) and `@query`
/// (`?` and the query, or `?` alone); None for other names.
fn derived_value(req: &RequestParts, name: &str) -> Option<String> {
    let (path, query) = match req.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path_and_query, None),
    };
    match name {
        "@method" => Some(req.method.to_string()),
        "@authority" => Some(req.authority.to_string()),
        "@path" => Some(if path.is_empty() { "/".to_string() } else { path.to_string() }),
        "@query" => Some(format!("?{}", query.unwrap_or(""))),
        _ => None,
    }
}

fn assemble_base(lines: &[(&str, String)], params_text: &str) -> String {
    let mut base = String::new();
    for (name, value) in lines {
        base.push('"');
        base.push_str(name);
        base.push_str("\": ");
        base.push_str(value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(params_text);
    base
}

/// The covered list is exactly [`COVERED`], strings without parameters.
fn check_components(items: &[(Bare, Params)]) -> Result<(), HttpSigError> {
    let ok = items.len() == COVERED.len()
        && items
            .iter()
            .zip(COVERED)
            .all(|((item, params), want)| params.is_empty() && matches!(item, Bare::Str(s) if s == want));
    if ok {
        Ok(())
    } else {
        let mut found = String::new();
        for (i, (item, params)) in items.iter().enumerate() {
            if i > 0 {
                found.push(' ');
            }
            serialize_bare(item, &mut found);
            serialize_params(params, &mut found);
        }
        Err(HttpSigError::WrongComponents { found })
    }
}

/// The five parameters of our signature.
struct SigParams {
    created: i64,
    expires: i64,
    nonce: String,
    key_id: String,
    alg: String,
}

impl SigParams {
    fn from(params: &Params) -> Result<SigParams, HttpSigError> {
        const NAMES: [&str; 5] = ["created", "expires", "nonce", "keyid", "alg"];
        if let Some((unknown, _)) = params.iter().find(|(k, _)| !NAMES.contains(&k.as_str())) {
            return Err(param_error(unknown, "it is not one of created, expires, nonce, keyid, alg"));
        }
        let get = |name: &'static str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let int = |name: &'static str| match get(name) {
            Some(Bare::Int(n)) => Ok(*n),
            Some(_) => Err(param_error(name, "it must be an integer (unix seconds)")),
            None => Err(param_error(name, "it is missing")),
        };
        let string = |name: &'static str| match get(name) {
            Some(Bare::Str(s)) => Ok(s.clone()),
            Some(_) => Err(param_error(name, "it must be a string")),
            None => Err(param_error(name, "it is missing")),
        };
        Ok(SigParams {
            created: int("created")?,
            expires: int("expires")?,
            nonce: string("nonce")?,
            key_id: string("keyid")?,
            alg: string("alg")?,
        })
    }
}

fn check_window(created: i64, expires: i64, now: i64) -> Result<(), HttpSigError> {
    if expires < created || expires - created > MAX_VALIDITY_SECS {
        return Err(HttpSigError::BadWindow { created, expires });
    }
    if created > now.saturating_add(MAX_SKEW_SECS) {
        return Err(HttpSigError::TooEarly { created, now });
    }
    if now > expires {
        return Err(HttpSigError::Expired { expires, now });
    }
    Ok(())
}

fn check_nonce(nonce: &str) -> Result<(), HttpSigError> {
    let n = nonce.len();
    if !(MIN_NONCE_CHARS..=MAX_NONCE_CHARS).contains(&n)
        || !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(param_error(
            "nonce",
            &format!("it must be {MIN_NONCE_CHARS} to {MAX_NONCE_CHARS} characters of A-Z a-z 0-9 - _"),
        ));
    }
    Ok(())
}

fn check_key_id(key_id: &str) -> Result<(), HttpSigError> {
    if key_id.is_empty() || key_id.len() > MAX_KEY_ID_BYTES {
        return Err(param_error("keyid", &format!("it must be 1 to {MAX_KEY_ID_BYTES} bytes")));
    }
    Ok(())
}

/// `Content-Digest` holds exactly `sha-256` (a 32-byte byte sequence, no
/// parameters), equal to SHA-256 of the body.
fn check_digest(value: &str, body: &[u8]) -> Result<(), HttpSigError> {
    let dict = parse_dictionary(value).map_err(|why| malformed(HEADER_CONTENT_DIGEST, why))?;
    let [(alg, member)] = dict.as_slice() else {
        return Err(malformed(HEADER_CONTENT_DIGEST, "it must hold exactly one digest, `sha-256`".into()));
    };
    match member {
        Member::Item(Bare::Bytes(d), p) if alg == "sha-256" && p.is_empty() && d.len() == 32 => {
            if d.as_slice() == Sha256::digest(body).as_slice() {
                Ok(())
            } else {
                Err(HttpSigError::BadDigest)
            }
        }
        _ => Err(malformed(HEADER_CONTENT_DIGEST, "it must be `sha-256=:BASE64:` of a 32-byte SHA-256".into())),
    }
}

// ---------------------------------------------------------------------------
// Structured Field Values (RFC 8941): the parser and serializer this module
// needs (dictionaries, inner lists, parameters, all bare item types).

/// A bare item.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bare {
    Int(i64),
    /// A decimal, kept as its text (never serialized into our base).
    Dec(String),
    Str(String),
    Token(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

/// Parameters, in order.
type Params = Vec<(String, Bare)>;

/// A dictionary member.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Member {
    Item(Bare, Params),
    Inner(Vec<(Bare, Params)>, Params),
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_sf_key(k: &str) -> bool {
    let mut bytes = k.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'*'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*'))
}

/// Parses a header value as a dictionary (RFC 8941 4.2.2), refusing a
/// repeated key.
fn parse_dictionary(text: &str) -> Result<Vec<(String, Member)>, String> {
    let mut p = SfParser { s: text.as_bytes(), i: 0 };
    p.skip_sp();
    let mut out: Vec<(String, Member)> = Vec::new();
    if p.at_end() {
        return Err("it is empty".into());
    }
    loop {
        let key = p.key()?;
        let member = if p.eat(b'=') {
            if p.peek() == Some(b'(') {
                let (items, params) = p.inner_list()?;
                Member::Inner(items, params)
            } else {
                let bare = p.bare()?;
                Member::Item(bare, p.params()?)
            }
        } else {
            Member::Item(Bare::Bool(true), p.params()?)
        };
        if out.iter().any(|(k, _)| *k == key) {
            return Err(format!("the key `{key}` appears twice"));
        }
        out.push((key, member));
        p.skip_ows();
        if p.at_end() {
            return Ok(out);
        }
        if !p.eat(b',') {
            return Err(format!("expected `,` at byte {}", p.i));
        }
        p.skip_ows();
        if p.at_end() {
            return Err("it ends with `,`".into());
        }
    }
}

struct SfParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl SfParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_sp(&mut self) {
        while self.eat(b' ') {}
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn key(&mut self) -> Result<String, String> {
        let start = self.i;
        if !matches!(self.peek(), Some(b'a'..=b'z' | b'*')) {
            return Err(format!("expected a key (lower-case letter or `*`) at byte {start}"));
        }
        self.i += 1;
        while matches!(self.peek(), Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*')) {
            self.i += 1;
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn inner_list(&mut self) -> Result<(Vec<(Bare, Params)>, Params), String> {
        if !self.eat(b'(') {
            return Err(format!("expected `(` at byte {}", self.i));
        }
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            if self.eat(b')') {
                let params = self.params()?;
                return Ok((items, params));
            }
            if self.at_end() {
                return Err("an inner list is not closed with `)`".into());
            }
            let bare = self.bare()?;
            let params = self.params()?;
            items.push((bare, params));
            if !matches!(self.peek(), Some(b' ' | b')')) {
                return Err(format!("expected a space or `)` at byte {}", self.i));
            }
        }
    }

    fn params(&mut self) -> Result<Params, String> {
        let mut out: Params = Vec::new();
        while self.eat(b';') {
            self.skip_sp();
            let key = self.key()?;
            let value = if self.eat(b'=') { self.bare()? } else { Bare::Bool(true) };
            if out.iter().any(|(k, _)| *k == key) {
                return Err(format!("the parameter `{key}` appears twice"));
            }
            out.push((key, value));
        }
        Ok(out)
    }

    fn bare(&mut self) -> Result<Bare, String> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'"') => self.string(),
            Some(b':') => self.bytes(),
            Some(b'?') => self.boolean(),
            Some(b'a'..=b'z' | b'A'..=b'Z' | b'*') => Ok(self.token()),
            Some(_) => Err(format!("unexpected character at byte {}", self.i)),
            None => Err("a value is missing at the end".into()),
        }
    }

    fn number(&mut self) -> Result<Bare, String> {
        let start = self.i;
        let negative = self.eat(b'-');
        let digits_start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let int_digits = self.i - digits_start;
        if int_digits == 0 {
            return Err(format!("a number without digits at byte {start}"));
        }
        if self.eat(b'.') {
            let frac_start = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            let frac = self.i - frac_start;
            if int_digits > 12 || !(1..=3).contains(&frac) {
                return Err(format!("a decimal out of range at byte {start}"));
            }
            return Ok(Bare::Dec(String::from_utf8_lossy(&self.s[start..self.i]).into_owned()));
        }
        if int_digits > 15 {
            return Err(format!("an integer of more than 15 digits at byte {start}"));
        }
        let text = std::str::from_utf8(&self.s[digits_start..self.i]).map_err(|_| "not ASCII".to_string())?;
        let n: i64 = text.parse().map_err(|_| format!("a bad integer at byte {start}"))?;
        Ok(Bare::Int(if negative { -n } else { n }))
    }

    fn string(&mut self) -> Result<Bare, String> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(format!("a string that starts at byte {start} is not closed"));
            };
            self.i += 1;
            match c {
                b'"' => return Ok(Bare::Str(out)),
                b'\\' => match self.peek() {
                    Some(e @ (b'"' | b'\\')) => {
                        self.i += 1;
                        out.push(char::from(e));
                    }
                    _ => return Err(format!("a bad escape in the string at byte {start}")),
                },
                0x20..=0x7e => out.push(char::from(c)),
                _ => return Err(format!("the string at byte {start} holds a character that is not printable ASCII")),
            }
        }
    }

    fn token(&mut self) -> Bare {
        let start = self.i;
        self.i += 1;
        while self.peek().is_some_and(|b| is_tchar(b) || b == b':' || b == b'/') {
            self.i += 1;
        }
        Bare::Token(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn bytes(&mut self) -> Result<Bare, String> {
        let start = self.i;
        self.i += 1;
        let from = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=') {
            self.i += 1;
        }
        let encoded = &self.s[from..self.i];
        if !self.eat(b':') {
            return Err(format!("the byte sequence at byte {start} is not closed with `:`"));
        }
        data_encoding::BASE64
            .decode(encoded)
            .map(Bare::Bytes)
            .map_err(|_| format!("the byte sequence at byte {start} is not canonical padded base64"))
    }

    fn boolean(&mut self) -> Result<Bare, String> {
        self.i += 1;
        if self.eat(b'1') {
            Ok(Bare::Bool(true))
        } else if self.eat(b'0') {
            Ok(Bare::Bool(false))
        } else {
            Err(format!("a bad boolean at byte {}", self.i))
        }
    }
}

fn push_sf_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn serialize_bare(b: &Bare, out: &mut String) {
    match b {
        Bare::Int(n) => out.push_str(&n.to_string()),
        Bare::Dec(d) => out.push_str(d),
        Bare::Str(s) => push_sf_string(out, s),
        Bare::Token(t) => out.push_str(t),
        Bare::Bytes(b) => {
            out.push(':');
            out.push_str(&data_encoding::BASE64.encode(b));
            out.push(':');
        }
        Bare::Bool(v) => out.push_str(if *v { "?1" } else { "?0" }),
    }
}

fn serialize_params(params: &Params, out: &mut String) {
    for (k, v) in params {
        out.push(';');
        out.push_str(k);
        if *v != Bare::Bool(true) {
            out.push('=');
            serialize_bare(v, out);
        }
    }
}

/// An inner list with its parameters (RFC 8941 4.1.1.1).
fn serialize_inner_list(items: &[(Bare, Params)], params: &Params) -> String {
    let mut out = String::from("(");
    for (i, (item, item_params)) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        serialize_bare(item, &mut out);
        serialize_params(item_params, &mut out);
    }
    out.push(')');
    serialize_params(params, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_parse_and_serialize() {
        let d = parse_dictionary(r#"a=("x" "y";p=1);q=?0, b=:AAE=:, c, d=tok/x:y, e=-1.5;f"#).unwrap();
        assert_eq!(d.len(), 5);
        let Member::Inner(items, params) = &d[0].1 else { panic!("inner list") };
        assert_eq!(serialize_inner_list(items, params), r#"("x" "y";p=1);q=?0"#);
        assert_eq!(d[1].1, Member::Item(Bare::Bytes(vec![0, 1]), vec![]));
        assert_eq!(d[2].1, Member::Item(Bare::Bool(true), vec![]));
        assert_eq!(d[3].1, Member::Item(Bare::Token("tok/x:y".into()), vec![]));
        for bad in ["", "A=1", "a=1,", "a=1, a=2", "a=(\"x\"", "a=\"\\n\"", "a=:AAF=:", "a=1234567890123456", "a=?2"] {
            assert!(parse_dictionary(bad).is_err(), "{bad:?}");
        }
    }
}
