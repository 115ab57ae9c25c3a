//! Process-wide tuning of the memory allocator, done once by `main`.

/// glibc gives each thread that allocates its own malloc arena (up to eight
/// per core), and memory freed into an arena stays with it. SQLite's page
/// caches allocate on whichever blocking thread runs the query, so every
/// thread ended up holding a few MiB: two arenas took the server's peak
/// resident memory from 60 to 35 MiB in the benchmark, at no measurable
/// cost in throughput (BENCHMARKS.md). Process-wide; `MALLOC_ARENA_MAX` in
/// the environment still decides when it is set. Call it first thing, before
/// other threads start allocating.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::ffi::c_int;
        const M_ARENA_MAX: c_int = -8;
        unsafe extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only sets a tunable of glibc's allocator; it
            // may be called at any time, from any thread.
            unsafe {
                mallopt(M_ARENA_MAX, 2);
            }
        }
    }
}
