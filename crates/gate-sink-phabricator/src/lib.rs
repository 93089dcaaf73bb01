//! Phabricator sink: Diffusion look-soon on GitHub pushes.
