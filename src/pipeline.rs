//! The one way from what the user asked for to finished values: the loading arguments become
//! one [`LoadConfig`], images are loaded (one, or a pair sharing a cache of parsed layers) and
//! analysed, and the results go to a front end (`cli_front`, `tui`). Nothing here prints:
//! progress goes through a [`Watch`], and the loaders' notes stay on the values they describe.

use crate::analysis::ci_rules::{self, CiThresholds, Evaluation};
use crate::analysis::compare::{self, Comparison};
use crate::analysis::why::{WhyOptions, WhyReport};
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::progress::Progress;
use crate::source::later::DigestsLater;
use crate::source::layer_store::LayerStore;
use crate::source::preview::LayerFeed;
use crate::source::reference::Target;
use crate::source::seek_index::SeekIndexes;
use crate::source::{self, LayerCache, LoadOptions, Selection};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

#[cfg(feature = "daemon")]
pub use crate::source::daemon::PullStatus;

/// What "why is it big" is told besides the image.
#[derive(Args, Debug, Clone, Default)]
pub struct WhyArgs {
    /// Leftover rules to add or override (YAML, same shape as assets/leftover-rules.yaml).
    /// With `compare`, they apply to both images.
    #[arg(long, value_name = "FILE", global = true)]
    pub rules: Option<PathBuf>,

    /// The base image (any input form): its layers are matched by diff_id.
    #[arg(long, value_name = "IMAGE")]
    pub base: Option<String>,

    /// The Dockerfile the image was built from, to name each layer's stage and instruction.
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,

    /// The Dockerfile stage that was built (default: the last).
    #[arg(long, value_name = "STAGE", requires = "dockerfile")]
    pub target: Option<String>,
}

/// How to find and read an image; shared by every command.
#[derive(Args, Debug, Clone, Default)]
pub struct LoadArgs {
    /// Skip checking layers against their digests.
    #[arg(long, global = true)]
    pub no_verify: bool,

    /// Which image of an archive holding several (NAME:TAG or digest).
    #[arg(long = "image", value_name = "NAME:TAG", global = true)]
    pub select_image: Option<String>,

    /// Which platform of a multi-platform index (e.g. linux/arm64); default: the host's.
    #[arg(long, value_name = "OS/ARCH", global = true)]
    pub platform: Option<String>,

    /// Where the image comes from, as dive's --source: docker, podman, registry, docker-archive, oci-archive, oci.
    #[arg(long, value_name = "SOURCE", global = true)]
    pub source: Option<String>,

    /// Ask the daemon to pull the image from its registry before reading it.
    #[arg(long, global = true)]
    pub pull: bool,

    /// Stop reading a compressed layer that inflates to more than N times its size (a
    /// decompression bomb); raise it for a trusted image with huge runs of zeros.
    #[arg(long, value_name = "N", global = true, default_value_t = crate::source::layer::DEFAULT_MAX_INFLATE_RATIO)]
    pub max_inflate_ratio: u64,
    /// Reach this registry (HOST[:PORT]) over plain HTTP or unverified TLS, as docker's daemon option. Repeatable.
    #[arg(long, value_name = "HOST[:PORT]", global = true)]
    pub insecure_registry: Vec<String>,

    /// Registry CAs (*.crt) and client certificate (*.cert + *.key) from DIR instead of certs.d.
    #[arg(long, value_name = "DIR", global = true)]
    pub cert_dir: Option<PathBuf>,

    /// Keep parsed layers in DIR (default: $BATHY_CACHE_DIR, else $XDG_CACHE_HOME/bathy).
    #[arg(long, value_name = "DIR", global = true, conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the layer cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
}

/// How every image of one run is read: [`LoadArgs`] turned, once, into what the loaders take.
#[derive(Clone, Debug, Default)]
pub struct LoadConfig {
    /// dive's `--source`, for names without a scheme.
    source: Option<String>,
    pull: bool,
    verify: bool,
    selection: Selection,
    max_inflate_ratio: u64,
    /// `--insecure-registry` and `--cert-dir`.
    registry: RegistryAccess,
    /// The on-disk cache of parsed layers; none with `--no-cache`.
    store: Option<Arc<LayerStore>>,
    /// Access points recorded while loading (the explorer's viewer reads through them).
    seek: Option<Arc<SeekIndexes>>,
    /// Where a load leaves the digests it does not wait for ([`source::later`]).
    digests_later: Option<Arc<DigestsLater>>,
}

/// How registries are reached (kept here, as plain values, so a build without the registry
/// client still takes the flags).
#[derive(Clone, Debug, Default)]
struct RegistryAccess {
    insecure: Vec<String>,
    cert_dir: Option<PathBuf>,
}

/// What to keep of an image besides its layers' entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The file contents the why-analyses read (package databases, ELF facts).
    Contents,
    /// Nothing: a `--base` or `--baseline`, of which only the layers are read, so
    /// `--no-verify` stays header-only.
    LayersOnly,
}

impl LoadConfig {
    pub fn from_args(args: &LoadArgs) -> LoadConfig {
        LoadConfig {
            source: args.source.clone(),
            pull: args.pull,
            verify: !args.no_verify,
            max_inflate_ratio: args.max_inflate_ratio,
            selection: Selection {
                image: args.select_image.clone(),
                platform: args.platform.clone(),
            },
            registry: RegistryAccess {
                insecure: args.insecure_registry.clone(),
                cert_dir: args.cert_dir.clone(),
            },
            store: layer_store(args),
            seek: None,
            digests_later: None,
        }
    }

    /// Which image of an archive and which platform of an index (also for re-reading a file).
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// The same, choosing no image by name: for a CI `--baseline`, since `--image` names an
    /// image of the archive under test, not of the baseline's.
    pub fn without_image_choice(&self) -> LoadConfig {
        LoadConfig {
            selection: Selection {
                image: None,
                ..self.selection.clone()
            },
            ..self.clone()
        }
    }

    /// The same, recording access points into compressed layers as it loads, and every
    /// entry's tar offset, into `seek`: the explorer, whose viewer reads single files.
    pub fn recording_seek_points(&self, seek: Arc<SeekIndexes>) -> LoadConfig {
        LoadConfig {
            seek: Some(seek),
            ..self.clone()
        }
    }

    /// The same, leaving the sha256 of uncompressed layers in an archive file running in
    /// `later` while the caller analyses: the caller checks them with
    /// [`DigestsLater::finish`] before it reports anything.
    pub fn checking_digests_in(&self, later: Arc<DigestsLater>) -> LoadConfig {
        LoadConfig {
            digests_later: Some(later),
            ..self.clone()
        }
    }

    /// The access points this configuration records, if it does.
    pub fn seek_points(&self) -> Option<&Arc<SeekIndexes>> {
        self.seek.as_ref()
    }

    /// How registries are reached (`--insecure-registry`, `--cert-dir`): for a load, and for
    /// fetching a layer again to read a file of it.
    #[cfg(feature = "registry")]
    pub fn registry_settings(&self) -> source::registry::RegistrySettings {
        source::registry::RegistrySettings {
            insecure: self.registry.insecure.clone(),
            cert_dir: self.registry.cert_dir.clone(),
            credentials: None,
        }
    }

    /// Where `target` (a path, a `scheme://` reference or a daemon image name) is read from.
    pub fn target(&self, target: &str) -> Result<Target> {
        let t = Target::parse(target, self.source.as_deref())?;
        if self.pull && !matches!(t, Target::Daemon { .. }) {
            return Err(Error::Usage(
                "--pull needs an image in a daemon, not a file".into(),
            ));
        }
        Ok(t)
    }

    fn options(&self, keep: Keep, watch: &Watch, cache: Option<LayerCache>) -> LoadOptions {
        LoadOptions {
            verify: self.verify,
            selection: self.selection.clone(),
            progress: watch.progress.clone(),
            cache,
            capture: (keep == Keep::Contents).then(crate::analysis::capture::why_capture),
            // digests of earlier loads sit beside the layer cache: one place, one --no-cache
            verified_cache: self.store.as_ref().map(|s| s.dir().join("verified-layers")),
            max_inflate_ratio: self.max_inflate_ratio,
            store: self.store.clone(),
            // only the image explored, not a base loaded for its diff_ids
            seek: self.seek.clone().filter(|_| keep == Keep::Contents),
            layer_feed: watch.layers.clone(),
            digests_later: self
                .digests_later
                .clone()
                .filter(|_| keep == Keep::Contents),
        }
    }
}

/// A daemon's pull status line, as a front end may show it while `--pull` runs.
#[cfg(feature = "daemon")]
pub type OnPull = Arc<dyn Fn(&str, &PullStatus) + Send + Sync>;

/// How a front end follows a load: counters it samples (a line on a terminal, a gauge) and,
/// for `--pull`, the daemon's status. The default follows nothing.
#[derive(Clone, Default)]
pub struct Watch {
    /// Bumped by the loader; its cancel flag stops the load.
    pub progress: Option<Arc<Progress>>,
    /// Called with the reference and each status the daemon sends while pulling it.
    #[cfg(feature = "daemon")]
    pub on_pull: Option<OnPull>,
    /// Sent the plan and each layer as it is parsed: the explorer shows the image so far.
    pub layers: Option<Arc<LayerFeed>>,
}

impl Watch {
    /// Follow a load by `progress` only.
    pub fn counting(progress: Arc<Progress>) -> Watch {
        Watch {
            progress: Some(progress),
            #[cfg(feature = "daemon")]
            on_pull: None,
            layers: None,
        }
    }

    /// Also send each layer to `feed` as it is parsed.
    pub fn with_layers(mut self, feed: Arc<LayerFeed>) -> Watch {
        self.layers = Some(feed);
        self
    }

    fn check_cancelled(&self) -> Result<()> {
        match &self.progress {
            Some(p) if p.cancelled() => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }
}

/// Read `target` as `config` says, pulling it first with `--pull`.
pub fn load(target: &str, config: &LoadConfig, keep: Keep, watch: &Watch) -> Result<Image> {
    load_cached(target, config, keep, watch, None)
}

/// [`load`], reusing (and filling) a cache of parsed layers shared with other loads.
fn load_cached(
    target: &str,
    config: &LoadConfig,
    keep: Keep,
    watch: &Watch,
    cache: Option<LayerCache>,
) -> Result<Image> {
    watch.check_cancelled()?;
    let opts = config.options(keep, watch, cache);
    match config.target(target)? {
        Target::Path(p) => source::load_path(&p, &opts),
        #[cfg(feature = "daemon")]
        Target::Daemon { engine, reference } => {
            if config.pull {
                let platform = config.selection.platform.as_deref();
                source::daemon::pull(engine, &reference, platform, |status| {
                    if let Some(f) = &watch.on_pull {
                        f(&reference, status);
                    }
                })?;
                watch.check_cancelled()?;
            }
            source::daemon::load(engine, &reference, &opts)
        }
        #[cfg(not(feature = "daemon"))]
        Target::Daemon { reference, .. } => Err(Error::Usage(format!(
            "{reference}: this build cannot read from a daemon"
        ))),
        Target::Registry { reference } => load_from_registry(&reference, config, &opts),
    }
}

/// `registry://…`: straight from the registry, no daemon.
fn load_from_registry(reference: &str, config: &LoadConfig, opts: &LoadOptions) -> Result<Image> {
    #[cfg(feature = "registry")]
    {
        source::registry::load(reference, &config.registry_settings(), opts)
    }
    #[cfg(not(feature = "registry"))]
    {
        let _ = (&config.registry.insecure, &config.registry.cert_dir, opts);
        Err(Error::Usage(format!(
            "registry://{reference}: this build cannot read from a registry"
        )))
    }
}

/// The on-disk layer cache the arguments ask for: `--cache-dir`, else the default place
/// (`$BATHY_CACHE_DIR`, `$XDG_CACHE_HOME/bathy`, `~/.cache/bathy`); none with `--no-cache`.
fn layer_store(args: &LoadArgs) -> Option<Arc<LayerStore>> {
    if args.no_cache {
        return None;
    }
    let dir = args.cache_dir.clone().or_else(LayerStore::default_dir)?;
    Some(Arc::new(LayerStore::new(
        dir,
        source::layer_store::DEFAULT_MAX_BYTES,
    )))
}

/// The why-analyses' options from `--rules`, `--dockerfile`, `--target` and `--base` (loaded
/// here, with `watch`: only its diff_ids and name are kept), and the loader's notes on the base.
pub fn why_options(
    args: &WhyArgs,
    config: &LoadConfig,
    watch: &Watch,
) -> Result<(WhyOptions, Vec<String>)> {
    let mut o = WhyOptions::from_files(
        args.rules.as_deref(),
        args.dockerfile.as_deref(),
        args.target.clone(),
    )?;
    let mut notes = Vec::new();
    if let Some(base) = &args.base {
        let b = load(base, config, Keep::LayersOnly, watch)?;
        o.stages.base_diff_ids = Some(b.layers.iter().map(|l| l.diff_id.clone()).collect());
        o.stages.base_name = Some(b.display_name());
        notes = b.warnings;
    }
    Ok((o, notes))
}

/// The why-analyses' options for a comparison: only `--rules`. Only the leftovers and packages
/// are compared, so stage options (`--dockerfile`, `--base`) would cost work without changing
/// the output.
pub fn compare_why_options(args: &WhyArgs) -> Result<WhyOptions> {
    WhyOptions::from_files(args.rules.as_deref(), None, None)
}

/// An image with everything measured about it.
pub struct Analysed {
    pub image: Image,
    pub analysis: Analysis,
    pub why: WhyReport,
}

/// Run the analyses on a loaded image.
pub fn analyse(image: Image, why: &WhyOptions) -> Analysed {
    let analysis = Analysis::run(&image);
    let why = WhyReport::run(&image, &analysis, why);
    Analysed {
        image,
        analysis,
        why,
    }
}

/// Two images compared, and what their loaders noted about each.
pub struct ComparedPair {
    pub comparison: Comparison,
    /// The CI gate's verdict, when one was asked for.
    pub evaluation: Option<Evaluation>,
    /// The loaders' notes on A and on B (which image of several was read, …).
    pub notes: [Vec<String>; 2],
}

/// Load `a` and `b` (shared layers read once), analyse both, diff them with their leftovers
/// and packages, and evaluate `gate` on the pair; `watch` follows the load of A and of B.
pub fn compare_images(
    a: &str,
    b: &str,
    config: &LoadConfig,
    why: &WhyOptions,
    gate: Option<&CiThresholds>,
    watch: [&Watch; 2],
) -> Result<ComparedPair> {
    let cache = LayerCache::new();
    let ia = load_cached(a, config, Keep::Contents, watch[0], Some(cache.clone()))?;
    let ib = load_cached(b, config, Keep::Contents, watch[1], Some(cache))?;
    watch[1].check_cancelled()?;
    let (aa, ab) = rayon::join(|| analyse(ia, why), || analyse(ib, why));
    let comparison = compare::compare(&compare_side(&aa), &compare_side(&ab));
    let evaluation = gate
        .map(|g| ci_rules::evaluate_comparison(g, &aa.image, &ab.image, &ab.analysis, &comparison));
    Ok(ComparedPair {
        comparison,
        evaluation,
        notes: [aa.image.warnings, ab.image.warnings],
    })
}

/// One side of a comparison with its leftover findings and installed packages.
fn compare_side(a: &Analysed) -> compare::Side<'_> {
    let (leftovers, packages) = a.why.compare_items();
    compare::Side::new(&a.image, &a.analysis)
        .with_leftovers(leftovers)
        .with_packages(packages)
}
