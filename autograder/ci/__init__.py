"""CI: the `autograder ci` command, merging CI results, the Gradescope bundle, templates."""
