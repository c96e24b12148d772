//! One whole connection lifecycle on two back-to-back endpoints:
//! handshake, a 16-byte message, close from both sides, TIME-WAIT expiry.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn lifecycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("lifecycle");
    g.throughput(Throughput::Elements(1));
    let mut pair = common::Pair::new();
    // Warm the tables so the first samples are not outliers.
    for _ in 0..100 {
        pair.lifecycle();
    }
    g.bench_function("handshake_16b_close_timewait", |b| {
        b.iter(|| pair.lifecycle())
    });
    g.finish();
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
