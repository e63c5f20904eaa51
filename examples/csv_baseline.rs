//! The speed baseline of BENCHMARKS.md: a bare csv-crate pass that reads a canonical trace and
//! parses its three required columns (timestamp_ms, function, duration_ms), nothing else.
//! Run: `cargo run --release --example csv_baseline -- FILE`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: csv_baseline FILE")?;
    let mut rdr = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .from_path(&path)?;
    let mut rec = csv::ByteRecord::new();
    let (mut rows, mut acc) = (0u64, 0.0f64);
    while rdr.read_byte_record(&mut rec)? {
        let t: f64 = std::str::from_utf8(&rec[0])?.parse()?;
        let f = std::str::from_utf8(&rec[1])?;
        let d: f64 = std::str::from_utf8(&rec[2])?.parse()?;
        acc += t + d + f.len() as f64;
        rows += 1;
    }
    println!("{rows} rows (checksum {acc:.0})");
    Ok(())
}
