//! The one parallel shape large inputs use: a reader thread cuts the input into
//! pieces, workers turn pieces into results, and the calling thread applies the
//! results in the order the pieces were cut. Output therefore never depends on the
//! thread count, and the calling thread (which owns the sink) is the only one that
//! touches it. Where applying is heavy work too, the calling thread also works
//! pieces while it waits for the next result in order.

use std::collections::BTreeMap;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, mpsc};

/// The stages of one ordered parallel run.
pub struct Ordered<Cut, NewWorker, Work, Apply> {
    /// Worker threads (at least one).
    pub threads: usize,
    /// Whether the calling thread works pieces too whenever the next result in order
    /// is not ready and a piece is waiting. Worth it when `apply` is a good share of
    /// the work (it then needs no core of its own); not when it is light, where the
    /// workers' pieces would wait for the applier's.
    pub applier_works: bool,
    /// Reads the next piece, given a buffer handed back by `apply` when one is spare;
    /// `None` at the end of the input.
    pub cut: Cut,
    /// Builds one worker's own state (caches that stay warm across pieces).
    pub new_worker: NewWorker,
    /// Turns a piece into a result, on a worker thread.
    pub work: Work,
    /// Consumes one result, in cut order, on the calling thread; may hand a buffer back
    /// to `cut` for reuse.
    pub apply: Apply,
}

impl<Cut, NewWorker, Work, Apply> Ordered<Cut, NewWorker, Work, Apply> {
    /// Runs the stages. At most `threads + 2` pieces are in flight (`threads + 4`
    /// when the applier works too: a piece it works holds back the results after
    /// it), so memory stays bounded however slow `apply` is. An error from `cut` ends the run once the
    /// pieces cut before it are applied (a `cut` that meets a read error mid-piece
    /// should hand over that piece first and return the error on its next call). A
    /// panic in `work` is passed on to the caller once the threads have stopped.
    pub fn run<Piece, Output, Buffer, State>(self) -> io::Result<()>
    where
        Piece: Send,
        Output: Send,
        Buffer: Send,
        Cut: FnMut(Option<Buffer>) -> io::Result<Option<Piece>> + Send,
        NewWorker: Fn() -> State + Sync,
        Work: Fn(Piece, &mut State) -> Output + Sync,
        Apply: FnMut(Output) -> Option<Buffer>,
    {
        let Ordered {
            threads,
            applier_works,
            mut cut,
            new_worker,
            work,
            mut apply,
        } = self;
        let threads = threads.max(1);
        let in_flight = threads + if applier_works { 4 } else { 2 };
        let (piece_tx, piece_rx) = mpsc::sync_channel::<(u64, Piece)>(in_flight);
        let piece_rx = Mutex::new(piece_rx);
        let (done_tx, done_rx) = mpsc::channel::<(u64, std::thread::Result<Output>)>();
        let (spare_tx, spare_rx) = mpsc::channel::<Buffer>();
        let (token_tx, token_rx) = mpsc::sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            token_tx.send(()).expect("the receiver is alive");
        }
        let (new_worker, work) = (&new_worker, &work);
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || -> io::Result<()> {
                let mut seq = 0;
                loop {
                    // A token per piece bounds memory however slow the applier is.
                    if token_rx.recv().is_err() {
                        return Ok(());
                    }
                    let Some(piece) = cut(spare_rx.try_recv().ok())? else {
                        return Ok(());
                    };
                    if piece_tx.send((seq, piece)).is_err() {
                        return Ok(());
                    }
                    seq += 1;
                }
            });
            for _ in 0..threads {
                let done_tx = done_tx.clone();
                let piece_rx = &piece_rx;
                scope.spawn(move || {
                    let mut state = new_worker();
                    loop {
                        let next = piece_rx.lock().map(|rx| rx.recv());
                        let Ok(Ok((seq, piece))) = next else { return };
                        // A panic goes to the applier in the piece's place: without
                        // its result the applier would wait for it forever.
                        let output =
                            std::panic::catch_unwind(AssertUnwindSafe(|| work(piece, &mut state)));
                        let stop = output.is_err();
                        if done_tx.send((seq, output)).is_err() || stop {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut waiting = BTreeMap::new();
            let mut next = 0u64;
            let mut panicked = None;
            // This thread's own worker state, for the pieces it works while it waits.
            let mut state = applier_works.then(&new_worker);
            'apply: loop {
                if !waiting.contains_key(&next) {
                    let queued = state.as_mut().and_then(|state| {
                        // A finished result first; else a piece nobody has taken yet
                        // (`try_lock`: a worker holds the lock only while it waits for
                        // a piece, so the queue is empty then).
                        if let Ok(done) = done_rx.try_recv() {
                            return Some(done);
                        }
                        let (seq, piece) = piece_rx.try_lock().ok()?.try_recv().ok()?;
                        let output =
                            std::panic::catch_unwind(AssertUnwindSafe(|| work(piece, state)));
                        Some((seq, output))
                    });
                    let Some((seq, output)) = queued.or_else(|| done_rx.recv().ok()) else {
                        break 'apply;
                    };
                    waiting.insert(seq, output);
                }
                while let Some(output) = waiting.remove(&next) {
                    let output = match output {
                        Ok(output) => output,
                        Err(panic) => {
                            panicked = Some(panic);
                            break 'apply;
                        }
                    };
                    if let Some(buffer) = apply(output) {
                        // The reader may be gone; the buffer is then simply dropped.
                        let _ = spare_tx.send(buffer);
                    }
                    next += 1;
                    // The reader may have stopped already; then nobody needs tokens.
                    let _ = token_tx.send(());
                }
            }
            // Without tokens the reader stops, and the workers once its pieces run out.
            drop(token_tx);
            let read = reader.join();
            if let Some(panic) = panicked {
                std::panic::resume_unwind(panic);
            }
            match read {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_cut_order_whatever_the_threads() {
        for (threads, applier_works) in [(1, false), (2, false), (4, false), (1, true), (2, true)] {
            let mut next = 0u32;
            let mut seen = Vec::new();
            Ordered {
                threads,
                applier_works,
                cut: |_: Option<()>| {
                    next += 1;
                    Ok((next <= 200).then_some(next))
                },
                new_worker: || 0u32,
                work: |n: u32, calls: &mut u32| {
                    *calls += 1;
                    // Uneven work, so pieces finish out of order.
                    std::thread::sleep(std::time::Duration::from_micros(u64::from(n % 7) * 50));
                    n * 2
                },
                apply: |n: u32| {
                    seen.push(n);
                    None
                },
            }
            .run()
            .unwrap();
            assert_eq!(seen, (1..=200).map(|n| n * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_applier_works_pieces_while_the_worker_is_busy() {
        let caller = std::thread::current().id();
        let worked_by = Mutex::new(Vec::new());
        let mut next = 0u32;
        let mut seen = Vec::new();
        Ordered {
            threads: 1,
            applier_works: true,
            cut: |_: Option<()>| {
                next += 1;
                Ok((next <= 40).then_some(next))
            },
            new_worker: || (),
            work: |n: u32, _: &mut ()| {
                worked_by.lock().unwrap().push(std::thread::current().id());
                std::thread::sleep(std::time::Duration::from_millis(2));
                n
            },
            apply: |n: u32| {
                seen.push(n);
                None
            },
        }
        .run()
        .unwrap();
        assert_eq!(seen, (1..=40).collect::<Vec<_>>());
        let worked_by = worked_by.into_inner().unwrap();
        let by_caller = worked_by.iter().filter(|&&id| id == caller).count();
        assert!(
            by_caller > 0 && by_caller < worked_by.len(),
            "{by_caller} of {} pieces worked by the applier",
            worked_by.len()
        );
    }

    #[test]
    fn an_empty_input_applies_nothing() {
        let mut applied = 0;
        Ordered {
            threads: 2,
            applier_works: true,
            cut: |_: Option<()>| Ok(None::<u32>),
            new_worker: || (),
            work: |n: u32, _: &mut ()| n,
            apply: |_: u32| {
                applied += 1;
                None
            },
        }
        .run()
        .unwrap();
        assert_eq!(applied, 0);
    }

    #[test]
    fn a_panicking_worker_stops_the_run_instead_of_hanging_it() {
        for (threads, applier_works) in [(1, false), (2, false), (3, false), (1, true), (2, true)] {
            let mut next = 0u32;
            let mut seen = Vec::new();
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                Ordered {
                    threads,
                    applier_works,
                    cut: |_: Option<()>| {
                        next += 1;
                        Ok((next <= 1000).then_some(next))
                    },
                    new_worker: || (),
                    work: |n: u32, _: &mut ()| {
                        assert!(n != 3, "piece 3 is bad");
                        n
                    },
                    apply: |n: u32| {
                        seen.push(n);
                        None
                    },
                }
                .run()
            }));
            assert!(run.is_err(), "{threads} threads: the panic is passed on");
            assert_eq!(seen, vec![1, 2], "{threads} threads");
        }
    }

    #[test]
    fn a_read_error_comes_back_after_the_pieces_read_before_it() {
        let mut next = 0u32;
        let mut seen = Vec::new();
        let result = Ordered {
            threads: 2,
            applier_works: true,
            cut: |_: Option<()>| {
                next += 1;
                if next == 5 {
                    return Err(io::Error::other("disk gone"));
                }
                Ok(Some(next))
            },
            new_worker: || (),
            work: |n: u32, _: &mut ()| n,
            apply: |n: u32| {
                seen.push(n);
                None
            },
        }
        .run();
        assert_eq!(result.unwrap_err().to_string(), "disk gone");
        assert_eq!(seen, vec![1, 2, 3, 4]);
    }
}
