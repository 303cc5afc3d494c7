//! The demo image in `assets/demo.tar`: a single-stage Go build that ships its toolchain, an
//! apt cache, a build cache deleted in a later layer and a chmod'ed copy of the binary: the
//! story people bring to bathyscaphe. `cargo run --example make-demo` writes it.

use crate::testkit::{filler, ImageSpec, LayerSpec};

/// A minimal static x86-64 ELF executable header (no interpreter, no needed libraries),
/// padded with filler to `size` bytes, so analyses that read ELF see a real static binary.
pub fn static_elf(size: usize, seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(size.max(120));
    v.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&2u16.to_le_bytes()); // e_type: EXEC
    v.extend_from_slice(&0x3eu16.to_le_bytes()); // e_machine: x86-64
    v.extend_from_slice(&1u32.to_le_bytes()); // e_version
    v.extend_from_slice(&0x401000u64.to_le_bytes()); // e_entry
    v.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    v.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    v.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    v.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    v.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    v.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    v.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    v.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    v.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
                                              // one PT_LOAD covering the file
    v.extend_from_slice(&1u32.to_le_bytes()); // p_type
    v.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R+X
    v.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    v.extend_from_slice(&0x400000u64.to_le_bytes()); // p_vaddr
    v.extend_from_slice(&0x400000u64.to_le_bytes()); // p_paddr
    v.extend_from_slice(&(size as u64).to_le_bytes()); // p_filesz
    v.extend_from_slice(&(size as u64).to_le_bytes()); // p_memsz
    v.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
    let pad = size.saturating_sub(v.len());
    v.extend_from_slice(&filler(pad, seed));
    v
}

const DPKG_STATUS: &str = "Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 60
Architecture: amd64
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: ca-certificates
Status: install ok installed
Priority: optional
Section: misc
Installed-Size: 12
Architecture: all
Version: 20230311
Description: Common CA certificates

Package: gcc-12
Status: install ok installed
Priority: optional
Section: devel
Installed-Size: 180
Architecture: amd64
Version: 12.2.0-14
Description: GNU C compiler

Package: libc6-dev
Status: install ok installed
Priority: optional
Section: libdevel
Installed-Size: 36
Architecture: amd64
Version: 2.36-9+deb12u4
Description: GNU C Library: Development Libraries and Header Files

Package: golang-1.19-go
Status: install ok installed
Priority: optional
Section: golang
Installed-Size: 110
Architecture: amd64
Version: 1.19.8-2
Description: Go programming language compiler, linker, compiled stdlib
";

/// The demo image's description.
pub fn demo_spec() -> ImageSpec {
    let base = LayerSpec::new("/bin/sh -c #(nop) ADD file:6b1c0e3d8a2f in / ")
        .dir("bin")
        .file_mode("bin/sh", &static_elf(18_000, 1), 0o755)
        .dir("etc")
        .file("etc/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n")
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        .file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        .dir("etc/ssl")
        .dir("etc/ssl/certs")
        .file_sized("etc/ssl/certs/ca-certificates.crt", 9_000, 2)
        .dir("lib")
        .dir("lib/x86_64-linux-gnu")
        .file_mode("lib/x86_64-linux-gnu/libc.so.6", &filler(40_000, 3), 0o755)
        .dir("usr")
        .dir("usr/share")
        .dir("usr/share/doc")
        .dir("usr/share/doc/libc6")
        .file_sized("usr/share/doc/libc6/copyright", 4_000, 4)
        .dir("var")
        .dir("var/lib")
        .dir("var/lib/dpkg")
        .file("var/lib/dpkg/status", DPKG_STATUS.split("\n\nPackage: gcc-12").next().unwrap_or("").as_bytes())
        .dir("var/lib/dpkg/info")
        .file("var/lib/dpkg/info/libc6:amd64.list", b"/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/libc6/copyright\n")
        .file("var/lib/dpkg/info/ca-certificates.list", b"/etc/ssl/certs/ca-certificates.crt\n");
    let toolchain = LayerSpec::new(
        "/bin/sh -c apt-get update && apt-get install -y gcc-12 libc6-dev golang-1.19-go",
    )
    .after_empty("/bin/sh -c #(nop)  ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/go-1.19/bin")
    .dir("usr/bin")
    .file_mode("usr/bin/x86_64-linux-gnu-gcc-12", &filler(60_000, 10), 0o755)
    .symlink("usr/bin/gcc", "x86_64-linux-gnu-gcc-12")
    .dir("usr/lib")
    .dir("usr/lib/gcc")
    .dir("usr/lib/gcc/x86_64-linux-gnu")
    .dir("usr/lib/gcc/x86_64-linux-gnu/12")
    .file_mode("usr/lib/gcc/x86_64-linux-gnu/12/cc1", &filler(120_000, 11), 0o755)
    .dir("usr/include")
    .file_sized("usr/include/stdio.h", 3_000, 12)
    .file_sized("usr/include/stdlib.h", 2_500, 13)
    .dir("usr/lib/x86_64-linux-gnu")
    .file_sized("usr/lib/x86_64-linux-gnu/libc.a", 30_000, 14)
    .dir("usr/lib/go-1.19")
    .dir("usr/lib/go-1.19/bin")
    .file_mode("usr/lib/go-1.19/bin/go", &filler(90_000, 15), 0o755)
    .dir("usr/lib/go-1.19/pkg")
    .file_sized("usr/lib/go-1.19/pkg/runtime.a", 25_000, 16)
    .dir("var/lib/apt")
    .dir("var/lib/apt/lists")
    .file_sized("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", 45_000, 17)
    .dir("var/cache")
    .dir("var/cache/apt")
    .dir("var/cache/apt/archives")
    .file_sized("var/cache/apt/archives/gcc-12_12.2.0-14_amd64.deb", 35_000, 18)
    .file("var/lib/dpkg/status", DPKG_STATUS.as_bytes())
    .file("var/lib/dpkg/info/gcc-12.list", b"/usr/bin/x86_64-linux-gnu-gcc-12\n/usr/bin/gcc\n/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n")
    .file("var/lib/dpkg/info/libc6-dev:amd64.list", b"/usr/include/stdio.h\n/usr/include/stdlib.h\n/usr/lib/x86_64-linux-gnu/libc.a\n")
    .file("var/lib/dpkg/info/golang-1.19-go.list", b"/usr/lib/go-1.19/bin/go\n/usr/lib/go-1.19/pkg/runtime.a\n");
    let source = LayerSpec::new("/bin/sh -c #(nop) COPY dir:9c1f3ab7 in /src ")
        .after_empty("/bin/sh -c #(nop) WORKDIR /src")
        .dir("src")
        .file("src/main.go", b"package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\":8080\", nil) }\n")
        .file("src/go.mod", b"module example.com/server\n\ngo 1.19\n")
        .dir("src/.git")
        .file("src/.git/HEAD", b"ref: refs/heads/main\n")
        .dir("src/.git/objects")
        .file_sized("src/.git/objects/pack-1.pack", 12_000, 20);
    let build = LayerSpec::new("/bin/sh -c CGO_ENABLED=0 go build -o /app/server . && cp -r /root/.cache/go-build /tmp/build-cache")
        .dir("app")
        .file_mode("app/server", &static_elf(70_000, 30), 0o644)
        .dir("root")
        .dir("root/.cache")
        .dir("root/.cache/go-build")
        .file_sized("root/.cache/go-build/00/a1b2-d", 20_000, 31)
        .dir("tmp")
        .dir("tmp/build-cache")
        .file_sized("tmp/build-cache/objects.bin", 30_000, 32);
    let cleanup = LayerSpec::new("/bin/sh -c rm -rf /tmp/build-cache")
        .dir("tmp")
        .whiteout("tmp/build-cache");
    let chmod = LayerSpec::new("/bin/sh -c chmod +x /app/server")
        .dir("app")
        .file_mode("app/server", &static_elf(70_000, 30), 0o755);
    ImageSpec::new("bathyscaphe/demo:latest")
        .layer(base)
        .layer(toolchain)
        .layer(source)
        .layer(build)
        .layer(cleanup)
        .layer(chmod)
        .env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/go-1.19/bin")
        .workdir("/src")
        .entrypoint(&["/app/server"])
        .trailing("/bin/sh -c #(nop)  ENTRYPOINT [\"/app/server\"]")
}
