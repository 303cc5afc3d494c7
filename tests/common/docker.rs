//! A client of the real Docker daemon for the tests that load, build and remove images there.

use bollard::Docker;

/// A runtime and a client that answered a version negotiation (the test fails if none does:
/// callers first ask `require_docker`).
pub fn connect() -> (tokio::runtime::Runtime, Docker) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let docker = rt.block_on(async {
        Docker::connect_with_defaults()
            .expect("docker client")
            .negotiate_version()
            .await
            .expect("dockerd answers")
    });
    (rt, docker)
}

/// `docker load` of an image archive through the API (POST /images/load); the test fails when
/// the daemon refuses it.
pub fn load(rt: &tokio::runtime::Runtime, docker: &Docker, archive: Vec<u8>) {
    use futures_util::StreamExt;
    let opts = bollard::query_parameters::ImportImageOptions {
        quiet: true,
        ..Default::default()
    };
    let out: Vec<_> = rt.block_on(
        docker
            .import_image(opts, bollard::body_full(archive.into()), None)
            .collect(),
    );
    for item in out {
        let info = item.expect("load succeeds");
        assert!(info.error_detail.is_none(), "load failed: {info:?}");
    }
}
