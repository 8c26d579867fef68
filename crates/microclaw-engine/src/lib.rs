//! The operations of the console (one async function each), auth, audit and self-check; transport-free.
