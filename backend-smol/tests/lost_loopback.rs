//! Nothing-lost loopback tests (issue 18) on smol, still in the old dialect until they are
//! ported to `tests/src/suite`.

use nodenet_smol::*;

include!("harness/smol.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/lost_loopback.rs");

nn_test! {
    fn io_trait_write_all_then_drop_delivers_everything_then_the_fin() {
        use futures_lite::AsyncWriteExt;
        // write_all returns once the last bytes are queued (below the high-water mark),
        // not sent: the drop must deliver them, then end the stream cleanly.
        let (mut server, port) = loopback_server!();
        let peer = read_to_end_on_thread(port, None);
        let mut c = accept!(server);
        let payload = pattern(DROPPED_WRITE);
        c.write_all(&payload).await.unwrap();
        drop(c);
        let got = peer.join().unwrap().unwrap();
        assert_eq!(got.len(), DROPPED_WRITE);
        assert!(got == payload, "in order, intact");
    }
}
