//! Secrets and risky files: a key added then deleted is found in its layer and said to be
//! "deleted in layer 2, still shipped"; an `.npmrc` token and a kubeconfig are found; a file that
//! only mentions "PRIVATE KEY" is not; a 1 GB `.env` is read by its head only; every output
//! (text, JSON, the explorer's why pane, every CI format) names the findings and none carries a
//! secret's bytes. Expected fingerprints are computed here with sha2, not taken from our output.

mod common;
use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::analysis::findings::{Check, Presence};
use bathyscaphe::analysis::secrets::{Detected, SecretKind};
use bathyscaphe::analysis::why::{WhyOptions, WhyReport};
use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::layer::{parse_layer_with_progress, Capture, LayerParseOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n\
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n\
-----END RSA PRIVATE KEY-----\n";
const NPM_TOKEN: &str = "npm_T0kenValueThatMustNeverLeak1234";
const KUBE_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkubeTokenValue";
const PROSE: &str =
    "Keys\n====\nA PRIVATE KEY begins with a line such as -----BEGIN RSA PRIVATE KEY-----\n\
and must never be copied into an image.\n";

fn fp(material: &[&str]) -> String {
    let mut h = Sha256::new();
    for m in material {
        h.update(m.as_bytes());
        h.update(b"\n");
    }
    h.finalize()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every secret byte string no output may contain.
fn secret_bytes() -> Vec<&'static str> {
    let mut v: Vec<&str> = KEY.lines().filter(|l| !l.starts_with("-----")).collect();
    v.extend([NPM_TOKEN, KUBE_TOKEN]);
    v
}

fn spec(user: Option<&str>) -> ImageSpec {
    let npmrc = format!("registry=https://npm.example/\n//npm.example/:_authToken={NPM_TOKEN}\n");
    let kube = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\nusers:\n- name: ci\n  user:\n    token: {KUBE_TOKEN}\n"
    );
    let s = ImageSpec::new("secrets:latest")
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) ADD file:base in /")
                .file(
                    "etc/passwd",
                    b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
                )
                .file_mode("usr/bin/sudo", b"\x7fELF not really", 0o4755)
                .file("usr/share/doc/keys/README.key", PROSE.as_bytes()),
        )
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) COPY dir:ctx in /")
                .file("root/.ssh/id_rsa", KEY.as_bytes())
                .file("app/.npmrc", npmrc.as_bytes())
                .file("root/.kube/config", kube.as_bytes())
                .file_mode("app/data.txt", b"shared", 0o666)
                .file_owned("app/owned.bin", b"x", 0o644, 4242, 4242),
        )
        .layer(LayerSpec::new("/bin/sh -c rm /root/.ssh/id_rsa").whiteout("root/.ssh/id_rsa"));
    match user {
        Some(u) => s.user(u),
        None => s,
    }
}

fn write(dir: &Path, name: &str, spec: &ImageSpec) -> PathBuf {
    let p = dir.join(name);
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::Gzip)
        .expect("write image");
    p
}

fn report(dir: &Path, spec: &ImageSpec) -> (bathyscaphe::image::Image, WhyReport) {
    let p = write(dir, "r.tar", spec);
    let opts = bathyscaphe::source::LoadOptions {
        capture: Some(why_capture()),
        ..Default::default()
    };
    let image = bathyscaphe::source::load_path(&p, &opts).expect("load");
    let a = Analysis::run(&image);
    let r = WhyReport::run(&image, &a, &WhyOptions::default());
    (image, r)
}

#[test]
fn every_finding_with_its_layer_presence_kind_and_fingerprint() {
    let dir = tmp();
    let (_, r) = report(dir.path(), &spec(None));
    let got: Vec<(Check, Option<&str>, Option<usize>, Presence)> = r
        .findings
        .iter()
        .map(|f| (f.check, f.path.as_deref(), f.layer, f.presence))
        .collect();
    use Check::*;
    assert_eq!(
        got,
        vec![
            (Secret, Some("/app/.npmrc"), Some(1), Presence::Visible),
            (
                Secret,
                Some("/root/.kube/config"),
                Some(1),
                Presence::Visible
            ),
            (
                Secret,
                Some("/root/.ssh/id_rsa"),
                Some(1),
                Presence::DeletedIn(2)
            ),
            (RootUser, None, None, Presence::Visible),
            (Setuid, Some("/usr/bin/sudo"), Some(0), Presence::Visible),
            (
                WorldWritable,
                Some("/app/data.txt"),
                Some(1),
                Presence::Visible
            ),
            (
                UnknownOwner,
                Some("/app/owned.bin"),
                Some(1),
                Presence::Visible
            ),
        ]
    );
    let secrets: Vec<&Detected> = r
        .findings
        .iter()
        .filter_map(|f| f.secret.as_ref())
        .collect();
    assert_eq!(
        secrets,
        vec![
            &Detected {
                kind: SecretKind::NpmToken,
                fingerprint: fp(&[NPM_TOKEN])
            },
            &Detected {
                kind: SecretKind::Kubeconfig,
                fingerprint: fp(&[KUBE_TOKEN])
            },
            &Detected {
                kind: SecretKind::PrivateKey,
                fingerprint: fp(&[KEY])
            },
        ]
    );
    assert_eq!(
        r.findings[2].instruction, "COPY dir:ctx in /",
        "the instruction that added the key"
    );
    // a USER that is not root: no root-user finding
    let (_, r) = report(dir.path(), &spec(Some("app")));
    assert!(r.findings.iter().all(|f| f.check != RootUser));
    let (_, r) = report(dir.path(), &spec(Some("0:0")));
    assert!(r.findings.iter().any(|f| f.check == RootUser));
}

/// Records the bytes the capture is handed, around the real one.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn Capture>,
    kept_bytes: Mutex<Vec<(String, usize)>>,
}

impl Capture for Recording {
    fn wants(&self, path: &str, size: u64, head: &[u8]) -> bool {
        self.inner.wants(path, size, head)
    }
    fn keep(&self, path: &str, content: Vec<u8>) -> Option<Vec<u8>> {
        self.kept_bytes
            .lock()
            .expect("test value")
            .push((path.to_string(), content.len()));
        self.inner.keep(path, content)
    }
    fn ranges(&self, path: &str, size: u64, head: &[u8]) -> Option<Vec<Range<u64>>> {
        self.inner.ranges(path, size, head)
    }
    fn keep_parts(&self, path: &str, parts: Vec<(u64, Vec<u8>)>) -> Option<Vec<u8>> {
        let n = parts.iter().map(|p| p.1.len()).sum();
        self.kept_bytes
            .lock()
            .expect("test value")
            .push((path.to_string(), n));
        self.inner.keep_parts(path, parts)
    }
}

#[test]
fn a_one_gigabyte_env_file_is_read_by_its_head_only() {
    const SIZE: u64 = 1 << 30;
    let head = b"DATABASE_URL=postgres://app:VerySecretPassword@db/app\n";
    let mut h = tar::Header::new_gnu();
    h.set_path("app/.env").expect("test value");
    h.set_size(SIZE);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    // the layer is generated while it is read: header, head, filler, end of archive
    let layer = std::io::Cursor::new(h.as_bytes().to_vec())
        .chain(&head[..])
        .chain(std::io::repeat(b'#').take(SIZE - head.len() as u64))
        .chain(std::io::repeat(0).take(1024));
    let rec = Arc::new(Recording {
        inner: why_capture(),
        kept_bytes: Mutex::new(Vec::new()),
    });
    let opts = LayerParseOptions {
        digests: false,
        content_hashes: false,
        capture: Some(rec.clone()),
        ..LayerParseOptions::default()
    };
    let parsed =
        parse_layer_with_progress(layer, "gen", "layer.tar", opts, None).expect("test value");
    assert_eq!(parsed.entries.len(), 1);
    assert_eq!(parsed.entries[0].size, SIZE);
    let kept = rec.kept_bytes.lock().expect("test value").clone();
    assert_eq!(kept, vec![("app/.env".to_string(), 64 * 1024)]);
    let d = Detected::decode(&parsed.captured[0].1).expect("a finding");
    assert_eq!(d.kind, SecretKind::EnvFile);
    assert!(!String::from_utf8_lossy(&parsed.captured[0].1).contains("VerySecret"));
}

fn all_outputs(dir: &Path, image: &Path) -> Vec<(String, String)> {
    let img = image.to_str().expect("test value");
    let mut out = Vec::new();
    let o = run(&[img, "--no-tui"], dir);
    out.push(("text".to_string(), stdout(&o)));
    let json = dir.join("r.json");
    let o = run(&[img, "--json", json.to_str().expect("test value")], dir);
    assert!(o.status.success(), "{}", stderr(&o));
    out.push((
        "json".to_string(),
        std::fs::read_to_string(&json).expect("json written"),
    ));
    for f in ["text", "json", "junit", "sarif", "github"] {
        let o = run(&[img, "--ci", "--ci-format", f], dir);
        assert_eq!(o.status.code(), Some(1), "{f}: {}", stderr(&o));
        out.push((format!("ci {f}"), stdout(&o) + &stderr(&o)));
    }
    out
}

#[test]
fn every_format_names_the_findings_and_none_holds_a_secret() {
    let dir = tmp();
    let image = write(dir.path(), "s.tar", &spec(None));
    for (name, text) in all_outputs(dir.path(), &image) {
        for s in secret_bytes() {
            assert!(!text.contains(s), "{name} holds secret bytes {s:?}");
        }
        for p in [
            "/root/.ssh/id_rsa",
            "/app/.npmrc",
            "/root/.kube/config",
            "/app/data.txt",
        ] {
            assert!(text.contains(p), "{name} does not name {p}:\n{text}");
        }
        if !name.starts_with("json") {
            // (the JSON report lists every file's layer; here no finding may name it)
            assert!(!text.contains("README.key"), "{name} flags the prose file");
        }
    }
    // the text report says the deleted key still ships
    let o = run(
        &[image.to_str().expect("test value"), "--no-tui"],
        dir.path(),
    );
    // (the report wraps long lines to its width: read it as one run of words)
    let words = stdout(&o).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("/root/.ssh/id_rsa (layer 1, deleted in layer 2, still shipped)"));
    // the explorer's why pane shows them, from the same view
    let (img, r) = report(dir.path(), &spec(None));
    let pane: Vec<String> = bathyscaphe::tui::why::lines(&img, &r)
        .into_iter()
        .map(|l| l.text)
        .collect();
    let pane = pane.join("\n");
    assert!(pane.contains("deleted in layer 2, still shipped"), "{pane}");
    for s in secret_bytes() {
        assert!(!pane.contains(s));
    }
}

#[test]
fn the_ci_rule_fails_on_listed_checks_only() {
    let dir = tmp();
    let image = write(dir.path(), "s.tar", &spec(Some("app")));
    let img = image.to_str().expect("test value");
    let dive_off = [
        "--lowestEfficiency",
        "off",
        "--highestUserWastedPercent",
        "off",
    ];
    let ci = |extra: &[&str]| {
        let mut a = vec![img, "--ci", "--ci-format", "json"];
        a.extend_from_slice(&dive_off);
        a.extend_from_slice(extra);
        let o = run(&a, dir.path());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
        let rule = v["results"]
            .as_array()
            .expect("test value")
            .iter()
            .find(|r| r["rule"] == "forbidden-findings")
            .cloned()
            .expect("test value");
        (o.status.code(), rule)
    };
    // the defaults: secret and world-writable
    let (code, rule) = ci(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(rule["measured"]["value"], 4, "{rule}");
    let (code, rule) = ci(&["--forbidden-findings", "setuid,unknown-owner"]);
    assert_eq!(
        (code, rule["measured"]["value"].clone()),
        (Some(1), 2.into())
    );
    let (code, _) = ci(&["--forbidden-findings", "root-user"]);
    assert_eq!(code, Some(0), "USER app is not root");
    let (code, rule) = ci(&["--forbidden-findings", "disabled"]);
    assert_eq!((code, rule["status"].as_str()), (Some(0), Some("skip")));
    // the same rule from .dive-ci
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  forbidden-findings: [secret]\n",
    )
    .expect("test value");
    let (code, rule) = ci(&[]);
    assert_eq!(
        (code, rule["measured"]["value"].clone()),
        (Some(1), 3.into())
    );
    // a bad check name: one line, exit 2
    let o = run(
        &[img, "--ci", "--forbidden-findings", "secrets"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown check \"secrets\""),
        "{}",
        stderr(&o)
    );
}
