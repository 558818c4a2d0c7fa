//! Where the server and the load generator run. Client and server share this machine, so
//! without a placement the scheduler decides, run by run, whether the server has a core to
//! itself or shares one with the client's threads, and a server that gets preempted reads
//! bigger batches and spends less CPU per byte. Pinning the server process to one CPU and
//! the load generator to the others makes every round measure the same arrangement. Every
//! server under test is single-threaded (one event loop) except `nodenet-std` (a thread per
//! connection), which then shares its one CPU between its threads.

use std::io;

use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

/// The CPUs of the server and of the load generator.
#[derive(Clone, Copy)]
pub struct Placement {
    server: CpuSet,
    client: CpuSet,
    /// The server's CPU, for the report.
    pub server_cpu: usize,
    /// How many CPUs the load generator has.
    pub client_cpus: u32,
}

impl std::fmt::Debug for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Placement")
            .field("server_cpu", &self.server_cpu)
            .field("client_cpus", &self.client_cpus)
            .finish()
    }
}

impl Placement {
    /// The last CPU this process may run on for the server, the others for the load
    /// generator; `None` with fewer than two CPUs (nothing to split).
    ///
    /// # Errors
    /// Fails when the affinity mask cannot be read.
    pub fn split() -> io::Result<Option<Placement>> {
        let allowed = sched_getaffinity(None)?;
        let cpus: Vec<usize> = (0..CpuSet::MAX_CPU)
            .filter(|&c| allowed.is_set(c))
            .collect();
        let (Some(&server_cpu), true) = (cpus.last(), cpus.len() >= 2) else {
            return Ok(None);
        };
        let mut server = CpuSet::new();
        server.set(server_cpu);
        let mut client = allowed;
        client.unset(server_cpu);
        Ok(Some(Placement {
            server,
            client,
            server_cpu,
            client_cpus: client.count(),
        }))
    }

    /// Pin the calling thread to the load generator's CPUs (threads it starts later
    /// inherit them).
    ///
    /// # Errors
    /// Fails when the kernel refuses the mask.
    pub fn pin_client(&self) -> io::Result<()> {
        Ok(sched_setaffinity(None, &self.client)?)
    }

    /// Run `spawn` with the calling thread pinned to the server's CPU, so the process it
    /// starts (and every thread of it) inherits that CPU; then back to the client's.
    ///
    /// # Errors
    /// Fails when the kernel refuses a mask; `spawn`'s own result is returned otherwise.
    pub fn spawn_on_server_cpu<T>(&self, spawn: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        sched_setaffinity(None, &self.server)?;
        let result = spawn();
        sched_setaffinity(None, &self.client)?;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_gives_the_server_one_cpu_and_keeps_it_from_the_client() {
        let Some(p) = Placement::split().unwrap() else {
            return; // a one-CPU machine has nothing to split
        };
        assert_eq!(p.server.count(), 1);
        assert!(p.server.is_set(p.server_cpu));
        assert!(!p.client.is_set(p.server_cpu));
        assert!(p.client_cpus >= 1);
    }

    #[test]
    fn a_spawned_child_inherits_the_server_cpu() {
        let Some(p) = Placement::split().unwrap() else {
            return;
        };
        let before = sched_getaffinity(None).unwrap();
        let child = p
            .spawn_on_server_cpu(|| std::process::Command::new("sleep").arg("5").spawn())
            .unwrap();
        let pid = rustix::process::Pid::from_child(&child);
        let child_mask = sched_getaffinity(Some(pid)).unwrap();
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(child_mask.count(), 1);
        assert!(child_mask.is_set(p.server_cpu));
        // The calling thread is back on the client's CPUs.
        let after = sched_getaffinity(None).unwrap();
        assert!(!after.is_set(p.server_cpu));
        sched_setaffinity(None, &before).unwrap();
    }
}
