//! Bulk transfer between two endpoints back to back (the in-process path
//! `synack bench throughput` measures beside smoltcp): the client writes
//! what its send buffer takes, the segments go to the server, whose
//! application copies everything out, and the ACKs come back. One
//! iteration moves 1 MiB over an established connection with the default
//! configuration (64 KiB buffers).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use synack::Error;

const PER_ITER: usize = 1 << 20;

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("throughput");
    g.throughput(Throughput::Bytes(PER_ITER as u64));
    g.bench_function("bulk_1mib_64k_buffers", |b| {
        let mut pair = common::Pair::new();
        let (cl, sv) = pair.establish();
        let chunk = vec![0x5a_u8; 64 << 10];
        let mut into = vec![0_u8; 64 << 10];
        b.iter(|| {
            let (mut sent, mut received) = (0, 0);
            while received < PER_ITER {
                let before = (sent, received);
                while sent < PER_ITER {
                    let n = chunk.len().min(PER_ITER - sent);
                    match pair.client.send(cl, &chunk[..n]) {
                        Ok(0) | Err(Error::WouldBlock) => break,
                        Ok(k) => sent += k,
                        Err(e) => panic!("send: {e}"),
                    }
                }
                pair.pump();
                loop {
                    match pair.server.recv(sv, &mut into) {
                        Ok(0) | Err(Error::WouldBlock) => break,
                        Ok(k) => received += k,
                        Err(e) => panic!("recv: {e}"),
                    }
                }
                pair.pump();
                while pair.client.poll_event().is_some() {}
                while pair.server.poll_event().is_some() {}
                if before == (sent, received) {
                    assert!(pair.advance(), "stalled");
                }
            }
            received
        });
    });
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
