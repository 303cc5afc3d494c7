fn main() {
    let p = std::env::args().nth(1).unwrap_or_default();
    match bathyscaphe::source::load_path(std::path::Path::new(&p), &Default::default()) {
        Ok(img) => {
            let a = bathyscaphe::analysis::Analysis::run(&img);
            println!("{:?} eff={} size={} user={} wasted={} uwp={:?} true={} final={} n={}", img.format, a.dive.efficiency, a.dive.size_bytes, a.dive.user_size_bytes, a.dive.wasted_bytes, a.dive.user_wasted_percent, a.waste.wasted_bytes, a.waste.final_bytes, img.entry_count());
        }
        Err(e) => { eprintln!("bathy: {e}"); std::process::exit(2) }
    }
}
