//! Security findings: secrets left in any layer (still visible, or "deleted" by a later layer
//! while their bytes still ship), and the risky-file checks next to them (runs as root,
//! setuid/setgid programs, world-writable files, owners no account names). Data only; the
//! secrets themselves were reduced to a kind and a fingerprint by the capture.

use crate::analysis::fsview::FinalFs;
use crate::analysis::secrets::{Detected, SecretKind};
use crate::image::{EntryKind, Image};
use crate::paths::NodeId;
use crate::tree::MergedTree;
use std::collections::{BTreeMap, BTreeSet};

/// Every check, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    Secret,
    RootUser,
    Setuid,
    WorldWritable,
    UnknownOwner,
}

impl Check {
    pub const ALL: [Check; 5] = [
        Check::Secret,
        Check::RootUser,
        Check::Setuid,
        Check::WorldWritable,
        Check::UnknownOwner,
    ];
    /// The name in reports, JSON and the CI rule `forbidden-findings`.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Secret => "secret",
            Check::RootUser => "root-user",
            Check::Setuid => "setuid",
            Check::WorldWritable => "world-writable",
            Check::UnknownOwner => "unknown-owner",
        }
    }
    pub fn from_name(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.as_str() == name)
    }
    /// What to do about a finding of this check.
    pub fn fix(self, presence: Presence) -> &'static str {
        match (self, presence) {
            (Check::Secret, Presence::Visible) => {
                "do not copy it into the image (RUN --mount=type=secret), and rotate it"
            }
            (Check::Secret, _) => {
                "a later layer hides it but its layer still ships it: stop adding it \
                 (RUN --mount=type=secret, or a multi-stage build), and rotate it"
            }
            (Check::RootUser, _) => "add a USER instruction naming an unprivileged user",
            (Check::Setuid, _) => "remove the program or drop the bit (chmod u-s,g-s)",
            (Check::WorldWritable, _) => "chmod o-w",
            (Check::UnknownOwner, _) => {
                "chown it (COPY --chown=…) to a user /etc/passwd names, or add that user"
            }
        }
    }
}

/// Whether a finding's file is in the final filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Visible,
    /// Removed by a whiteout in this layer: invisible, still shipped.
    DeletedIn(usize),
    /// Overwritten by this layer: invisible, still shipped.
    ReplacedIn(usize),
}

impl Presence {
    /// For people: `visible`, `deleted in layer 3, still shipped`.
    pub fn describe(self) -> String {
        match self {
            Presence::Visible => "visible".to_string(),
            Presence::DeletedIn(l) => format!("deleted in layer {l}, still shipped"),
            Presence::ReplacedIn(l) => format!("replaced in layer {l}, still shipped"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub check: Check,
    /// Absolute path (`/root/.ssh/id_rsa`); `None` for the image-wide `root-user`.
    pub path: Option<String>,
    /// The layer that added the file.
    pub layer: Option<usize>,
    /// That layer's instruction (or, for `root-user`, the USER setting).
    pub instruction: String,
    pub presence: Presence,
    /// For a secret: its kind and fingerprint (never its value).
    pub secret: Option<Detected>,
    /// Mode, owner, or how many paths a finding stands for.
    pub detail: String,
}

impl Finding {
    pub fn fix(&self) -> &'static str {
        self.check.fix(self.presence)
    }
    /// One line for people: `secret private-key (fingerprint 1a2b3c4d) /root/.ssh/id_rsa …`.
    pub fn headline(&self) -> String {
        let mut s = self.check.as_str().to_string();
        if let Some(d) = &self.secret {
            s.push_str(&format!(
                " {} (fingerprint {})",
                d.kind.as_str(),
                d.fingerprint
            ));
        }
        if let Some(p) = &self.path {
            s.push_str(&format!(" {p}"));
        }
        if let Some(l) = self.layer {
            s.push_str(&format!(" (layer {l}"));
            if self.presence != Presence::Visible {
                s.push_str(&format!(", {}", self.presence.describe()));
            }
            s.push(')');
        }
        if !self.detail.is_empty() {
            s.push_str(&format!(": {}", self.detail));
        }
        s
    }
}

/// Every finding of an image, in check order, then by layer and path.
pub fn find(image: &Image, merged: &MergedTree) -> Vec<Finding> {
    let fs = FinalFs::new(image, merged);
    let mut out = secrets(image, merged);
    out.extend(root_user(image));
    out.extend(final_files(&fs));
    out.sort_by(|a, b| {
        (a.check, a.layer, &a.path, a.secret.as_ref().map(|d| d.kind)).cmp(&(
            b.check,
            b.layer,
            &b.path,
            b.secret.as_ref().map(|d| d.kind),
        ))
    });
    out
}

/// `/etc/passwd` (the path table writes paths absolute already).
fn display_path(image: &Image, node: NodeId) -> String {
    let p = image.paths.path(node);
    format!("/{}", p.trim_start_matches('/'))
}

/// What became of the version `layer` wrote of `node` (also read by the CI path rules).
pub fn presence(merged: &MergedTree, node: NodeId, layer: usize) -> Presence {
    let later = merged
        .versions(node)
        .iter()
        .find(|v| v.layer as usize > layer);
    match later {
        None => Presence::Visible,
        Some(v) if v.present() => Presence::ReplacedIn(v.layer as usize),
        Some(v) => Presence::DeletedIn(v.layer as usize),
    }
}

fn secrets(image: &Image, merged: &MergedTree) -> Vec<Finding> {
    image
        .captured
        .iter()
        .filter_map(|(&(layer, node), kept)| {
            let d = Detected::decode(kept)?;
            let layer = layer as usize;
            Some(Finding {
                check: Check::Secret,
                path: Some(display_path(image, node)),
                layer: Some(layer),
                instruction: image
                    .layers
                    .get(layer)
                    .map(|l| l.display_command())
                    .unwrap_or_default(),
                presence: presence(merged, node, layer),
                secret: Some(d),
                detail: String::new(),
            })
        })
        .collect()
}

/// No `USER`, or a user that is root.
fn root_user(image: &Image) -> Option<Finding> {
    let user = image
        .config
        .config
        .as_ref()
        .and_then(|c| c.user.clone())
        .unwrap_or_default();
    let name = user.split(':').next().unwrap_or("").trim();
    if !(name.is_empty() || name == "root" || name == "0") {
        return None;
    }
    Some(Finding {
        check: Check::RootUser,
        path: None,
        layer: None,
        instruction: if user.is_empty() {
            "no USER".to_string()
        } else {
            format!("USER {user}")
        },
        presence: Presence::Visible,
        secret: None,
        detail: "the container's processes run as root".to_string(),
    })
}

/// Directories anyone may write to by design (sticky-bit ones are skipped anyway).
fn is_scratch(path: &str) -> bool {
    ["tmp", "var/tmp", "dev/shm", "run/lock", "var/lock"]
        .iter()
        .any(|d| path == *d || path.starts_with(&format!("{d}/")))
}

/// uids `/etc/passwd` names (None: no readable `/etc/passwd`, so the check cannot run).
fn known_uids(fs: &FinalFs) -> Option<BTreeSet<u32>> {
    let node = fs.node("etc/passwd")?;
    let text = String::from_utf8_lossy(fs.captured(node)?).into_owned();
    let mut uids: BTreeSet<u32> = text
        .lines()
        .filter_map(|l| l.split(':').nth(2)?.trim().parse().ok())
        .collect();
    uids.insert(0);
    Some(uids)
}

/// setuid/setgid programs, world-writable files and unknown owners in the final filesystem.
fn final_files(fs: &FinalFs) -> Vec<Finding> {
    let image = fs.image;
    let uids = known_uids(fs);
    let mut out = Vec::new();
    // unknown owners are grouped by uid: a COPY without --chown makes thousands of paths
    let mut unknown: BTreeMap<u32, (usize, NodeId, usize)> = BTreeMap::new();
    for node in 0..image.paths.len() as NodeId {
        let Some((layer, e)) = fs.entry(node) else {
            continue;
        };
        let shown = display_path(image, node);
        let path = &shown[1..];
        let finding = |check: Check, detail: String| Finding {
            check,
            path: Some(shown.clone()),
            layer: Some(layer),
            instruction: image.layers[layer].display_command(),
            presence: Presence::Visible,
            secret: None,
            detail,
        };
        let perm = e.mode & 0o7777;
        if e.kind == EntryKind::File && perm & 0o6000 != 0 {
            let bits = match (perm & 0o4000 != 0, perm & 0o2000 != 0) {
                (true, true) => "setuid and setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            out.push(finding(
                Check::Setuid,
                format!("{bits}, mode {perm:04o}, owner uid {}", e.uid),
            ));
        }
        let writable = perm & 0o002 != 0
            && match e.kind {
                EntryKind::File => true,
                EntryKind::Dir => perm & 0o1000 == 0,
                _ => false,
            };
        if writable && !is_scratch(path) {
            out.push(finding(Check::WorldWritable, format!("mode {perm:04o}")));
        }
        if let Some(known) = &uids {
            if !known.contains(&e.uid) {
                let slot = unknown.entry(e.uid).or_insert((0, node, layer));
                slot.0 += 1;
            }
        }
    }
    for (uid, (count, node, layer)) in unknown {
        let others = match count {
            1 => String::new(),
            n => format!(" (and {} more paths)", n - 1),
        };
        out.push(Finding {
            check: Check::UnknownOwner,
            path: Some(display_path(image, node)),
            layer: Some(layer),
            instruction: image.layers[layer].display_command(),
            presence: Presence::Visible,
            secret: None,
            detail: format!("uid {uid}, which /etc/passwd does not name{others}"),
        });
    }
    out
}

/// How many findings of each check; the kinds of secrets found.
pub fn secret_kinds(findings: &[Finding]) -> BTreeSet<SecretKind> {
    findings
        .iter()
        .filter_map(|f| f.secret.as_ref().map(|d| d.kind))
        .collect()
}
