"""Command line: ``sklears-neural demo`` and ``sklears-neural show-versions``."""

import argparse
import sys

__all__ = ["main"]


def _demo(args):
    from sklears_neural._demo import (
        compare_mlp_on_digits,
        fit_digits_cnn,
        fit_italy_power_lstm,
        train_digits_mlp,
    )

    progress = not args.no_progress
    print("sklears-neural demo on scikit-learn's digits (1797 8x8 images, standardised,")
    print("25% stratified test split).\n")
    print("1. MLPClassifier, ours vs scikit-learn's, same settings (their defaults):")
    rows = compare_mlp_on_digits(max_iter=args.max_iter, random_state=args.random_state,
                                 progress=progress)
    print(f"   {'library':<16}{'test accuracy':>15}{'fit time (s)':>14}{'epochs':>8}")
    for row in rows:
        print(f"   {row['library']:<16}{row['test_accuracy']:>15.4f}{row['fit_time']:>14.2f}"
              f"{row['n_iter']:>8}")
    print(f"   speed-up: {rows[1]['fit_time'] / rows[0]['fit_time']:.1f}x\n")

    print("2. CNNClassifier (defaults: two conv blocks 32/64 filters, 3x3, batch norm, max-pool,")
    print("   dense 128) on the same split, rows read as 1x8x8 images:")
    cnn = fit_digits_cnn(max_epochs=args.cnn_epochs, random_state=args.random_state,
                         progress=progress)
    print(f"   test accuracy: {cnn['test_accuracy']:.4f}")
    print(f"   fit time:      {cnn['fit_time']:.2f} s ({cnn['n_iter']} epochs)\n")

    print("3. RNNClassifier (defaults: one LSTM layer of 64, last hidden state) on")
    print("   ItalyPowerDemand, a UCR time-series dataset bundled with aeon (official split):")
    try:
        lstm = fit_italy_power_lstm(max_epochs=args.rnn_epochs, random_state=args.random_state,
                                    progress=progress)
    except ImportError:
        print("   skipped: aeon is not installed (pip install 'sklears-neural[demo]').\n")
    else:
        print(f"   {lstm['n_train']} training / {lstm['n_test']} test days of 24 hourly readings")
        print(f"   test accuracy: {lstm['test_accuracy']:.4f}")
        print(f"   fit time:      {lstm['fit_time']:.2f} s ({lstm['n_iter']} epochs)\n")

    print("4. The engine underneath: nn.Sequential (64 -> 128 -> 10, ReLU) + optim.Adam:")
    result = train_digits_mlp(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                              random_state=args.random_state, progress=progress)
    print(f"   test accuracy: {result['test_accuracy']:.4f}")
    print(f"   fit time:      {result['fit_time']:.2f} s ({args.epochs} epochs)")
    print(f"   final loss:    {result['final_loss']:.4f}")
    return 0


def _show_versions(args):
    from sklears_neural import show_versions

    show_versions()
    return 0


def main(argv=None):
    """Entry point of the ``sklears-neural`` command."""
    parser = argparse.ArgumentParser(prog="sklears-neural", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="train on bundled data (digits, ItalyPowerDemand) and report")
    demo.add_argument("--max-iter", type=int, default=200, help="MLPClassifier epochs")
    demo.add_argument("--cnn-epochs", type=int, default=20, help="CNNClassifier epochs")
    demo.add_argument("--rnn-epochs", type=int, default=50, help="RNNClassifier epochs")
    demo.add_argument("--epochs", type=int, default=30, help="engine network epochs")
    demo.add_argument("--batch-size", type=int, default=64)
    demo.add_argument("--lr", type=float, default=1e-3)
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    demo.set_defaults(run=_demo)
    versions = commands.add_parser("show-versions", help="print versions, BLAS and threads")
    versions.set_defaults(run=_show_versions)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
