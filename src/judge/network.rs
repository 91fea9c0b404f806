//! Network logic: which ports a security group rule opens, which sources are the world.
