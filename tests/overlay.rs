//! The overlay rules and both waste measures on small images, every expected number worked out
//! by hand in the comment above it.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::testkit::{ImageSpec, LayerSpec};
use bathyscaphe::tree::ChangeMark;
use common::*;

#[test]
fn dives_unit_example_scores_three_quarters_and_true_waste_is_ten_thousand() {
    // DESIGN-NOTES §5: dive's own efficiency unit test.
    // paths: nginx.conf cum 2000+5000=7000 min 2000; public 3000; athing 10000; /etc/nginx 0
    // (the whiteout finds an intermediate node, not a directory) → 15000/20000 = 0.75.
    // true: shipped 20000, visible only athing 10000 → waste 10000.
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(
            LayerSpec::new("a")
                .file_sized("etc/nginx/nginx.conf", 2000, 1)
                .file_sized("etc/nginx/public", 3000, 2),
        )
        .layer(
            LayerSpec::new("b")
                .file_sized("etc/nginx/nginx.conf", 5000, 3)
                .file_sized("etc/athing", 10000, 4),
        )
        .layer(LayerSpec::new("c").whiteout("etc/nginx"));
    let (_, a) = analyse(t.path(), &spec);
    assert_eq!(a.dive.efficiency, 0.75);
    assert_eq!(a.dive.inefficient_files.len(), 1);
    assert_eq!(a.dive.inefficient_files[0].path, "/etc/nginx/nginx.conf");
    assert_eq!(a.dive.inefficient_files[0].cumulative_bytes, 7000);
    assert_eq!(a.dive.wasted_bytes, 7000);
    assert_eq!(a.waste.shipped_bytes, 20000);
    assert_eq!(a.waste.final_bytes, 10000);
    assert_eq!(a.waste.wasted_bytes, 10000);
    assert_eq!(a.waste.layers[0].wasted_bytes, 5000);
    assert_eq!(a.waste.layers[1].wasted_bytes, 5000);
}

#[test]
fn opaque_dir_hides_lower_content_but_dive_ignores_it() {
    // lower a/x 100 + a/y 200 hidden by the opaque marker; same-layer a/z 50 stays.
    // true waste 300, final 50. dive never counts a path twice here: wasted 0, efficiency 1.
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(
            LayerSpec::new("a")
                .dir("a")
                .file_sized("a/x", 100, 1)
                .file_sized("a/y", 200, 2),
        )
        .layer(
            LayerSpec::new("b")
                .dir("a")
                .opaque("a")
                .file_sized("a/z", 50, 3),
        );
    let (img, a) = analyse(t.path(), &spec);
    assert_eq!(a.waste.wasted_bytes, 300);
    assert_eq!(a.waste.final_bytes, 50);
    assert_eq!(a.dive.wasted_bytes, 0);
    assert_eq!(a.dive.efficiency, 1.0);
    let z = img.paths.lookup("a/z").unwrap();
    let x = img.paths.lookup("a/x").unwrap();
    assert!(a.merged.present_at(z, 1));
    assert!(a.merged.present_at(x, 0));
    assert!(!a.merged.present_at(x, 1));
    assert_eq!(a.merged.mark_at(&img, x, 1), Some(ChangeMark::Removed));
}

#[test]
fn a_file_replacing_a_directory_removes_its_subtree_and_back() {
    // d/f 100 under directory d; then a file d of 10 bytes → 100 wasted, 10 visible.
    // p is a 100-byte file; then p/q (5 bytes) makes p a directory → another 100 wasted.
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(
            LayerSpec::new("a")
                .dir("d")
                .file_sized("d/f", 100, 1)
                .file_sized("p", 100, 2),
        )
        .layer(
            LayerSpec::new("b")
                .file_sized("d", 10, 3)
                .file_sized("p/q", 5, 4),
        );
    let (img, a) = analyse(t.path(), &spec);
    assert_eq!(a.waste.shipped_bytes, 215);
    assert_eq!(a.waste.final_bytes, 15);
    assert_eq!(a.waste.wasted_bytes, 200);
    assert!(!a.merged.present_at(img.paths.lookup("d/f").unwrap(), 1));
    assert!(a.merged.present_at(img.paths.lookup("p/q").unwrap(), 1));
}

#[test]
fn a_hardlink_keeps_content_visible_after_its_source_is_deleted() {
    // a (100) hardlinked as b; a is deleted later: the bytes stay visible through b.
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(
            LayerSpec::new("a")
                .file_sized("a", 100, 1)
                .hardlink("b", "a"),
        )
        .layer(LayerSpec::new("b").whiteout("a"));
    let (_, a) = analyse(t.path(), &spec);
    assert_eq!(a.waste.shipped_bytes, 100);
    assert_eq!(a.waste.final_bytes, 100);
    assert_eq!(a.waste.wasted_bytes, 0);
}

#[test]
fn overwriting_a_file_wastes_the_lower_copy_and_dive_counts_both() {
    // f 100 then f 150: true waste 100, final 150.
    // dive: cum 250, min 100 → efficiency 100/250 = 0.4; wasted 250; user size 150 →
    // user wasted 250/150.
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(LayerSpec::new("a").file_sized("f", 100, 1))
        .layer(LayerSpec::new("b").file_sized("f", 150, 2));
    let (_, a) = analyse(t.path(), &spec);
    assert_eq!(a.waste.wasted_bytes, 100);
    assert_eq!(a.waste.final_bytes, 150);
    assert_eq!(a.dive.efficiency, 0.4);
    assert_eq!(a.dive.wasted_bytes, 250);
    assert_eq!(a.dive.user_size_bytes, 150);
    assert_eq!(a.dive.user_wasted_percent, Some(250.0 / 150.0));
}

#[test]
fn dive_counts_a_deleted_directory_as_one_path_with_its_subtree_size() {
    // d is a real directory entry holding a 100 and b 50; layer 1 deletes d.
    // dive: /d/a 100, /d/b 50, /d 150 (the whiteout sums the stacked subtree), each seen once
    // → efficiency (100+50+150)/(100+50+150) = 1, wasted 0. True waste 150.
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(
            LayerSpec::new("a")
                .dir("d")
                .file_sized("d/a", 100, 1)
                .file_sized("d/b", 50, 2),
        )
        .layer(LayerSpec::new("b").whiteout("d"));
    let (_, a) = analyse(t.path(), &spec);
    assert_eq!(a.dive.efficiency, 1.0);
    assert_eq!(a.dive.wasted_bytes, 0);
    assert_eq!(a.waste.wasted_bytes, 150);
}

#[test]
fn dive_stops_a_layer_at_a_whiteout_of_something_that_never_existed() {
    // layer 1 visits .a (5), then .wh.b: /b is not in the stacked tree, so dive stops that
    // layer (c is never counted) and leaves /b with min -1.
    // Σmin = 10 (/a) + 5 (/.a) - 1 (/b) = 14; Σcum = 10 + 5 = 15 → 14/15.
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(LayerSpec::new("a").file_sized("a", 10, 1))
        .layer(
            LayerSpec::new("b")
                .file_sized(".a", 5, 2)
                .whiteout("b")
                .file_sized("c", 20, 3),
        );
    let (_, a) = analyse(t.path(), &spec);
    assert_eq!(a.dive.efficiency, 14.0 / 15.0);
    assert_eq!(a.waste.wasted_bytes, 0);
    assert_eq!(a.waste.final_bytes, 35);
}

#[test]
fn change_marks_follow_content_mode_and_deletion() {
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(
            LayerSpec::new("a")
                .file_mode("f", b"same", 0o644)
                .file("g", b"one"),
        )
        .layer(
            LayerSpec::new("b")
                .file_mode("f", b"same", 0o755)
                .file("g", b"one"),
        )
        .layer(LayerSpec::new("c").file("g", b"two").file("h", b"new"))
        .layer(LayerSpec::new("d").whiteout("g"));
    let (img, a) = analyse(t.path(), &spec);
    let f = img.paths.lookup("f").unwrap();
    let g = img.paths.lookup("g").unwrap();
    let h = img.paths.lookup("h").unwrap();
    assert_eq!(a.merged.mark_at(&img, f, 0), Some(ChangeMark::Added));
    assert_eq!(a.merged.mark_at(&img, f, 1), Some(ChangeMark::Modified));
    assert_eq!(a.merged.mark_at(&img, g, 1), Some(ChangeMark::Unchanged));
    assert_eq!(a.merged.mark_at(&img, g, 2), Some(ChangeMark::Modified));
    assert_eq!(a.merged.mark_at(&img, h, 2), Some(ChangeMark::Added));
    assert_eq!(a.merged.mark_at(&img, g, 3), Some(ChangeMark::Removed));
    assert_eq!(a.merged.mark_at(&img, f, 2), None);
    // g: 3 bytes in each of layers 0,1,2, none visible at the end → 9; f's lower copy 4.
    assert_eq!(a.waste.wasted_bytes, 13);
    let fv = a.merged.final_state(f).unwrap();
    let lower = bathyscaphe::tree::entry_of(&img, a.merged.state_at(f, 0).unwrap()).unwrap();
    let upper = bathyscaphe::tree::entry_of(&img, fv).unwrap();
    assert_eq!(
        bathyscaphe::tree::change_detail(lower, upper, &img),
        vec!["mode"]
    );
}

#[test]
fn history_pairs_with_layers_skipping_empty_steps() {
    let t = tmp();
    let spec = ImageSpec::new("t:1")
        .layer(LayerSpec::new("/bin/sh -c #(nop) ADD file:abc in / ").file("a", b"x"))
        .layer(
            LayerSpec::new("/bin/sh -c make")
                .after_empty("/bin/sh -c #(nop)  ENV A=1")
                .after_empty("/bin/sh -c #(nop) WORKDIR /src")
                .file("b", b"y"),
        )
        .trailing("/bin/sh -c #(nop)  CMD [\"sh\"]");
    let (img, _) = analyse(t.path(), &spec);
    assert_eq!(img.layers[0].display_command(), "ADD file:abc in /");
    assert_eq!(img.layers[1].display_command(), "RUN make");
    assert_eq!(img.layers[1].empty_history.len(), 2);
    assert_eq!(
        img.layers[1].empty_history[1].display_command(),
        "WORKDIR /src"
    );
    assert_eq!(img.trailing_history.len(), 1);
}
