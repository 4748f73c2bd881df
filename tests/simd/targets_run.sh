#!/usr/bin/env bash
# The fit/train runs that cover every SIMD kernel beyond the golden set (tests/golden/run.sh):
# every built-in family, formulas with each vectorised operation, a fit with more than three free
# parameters (the tiled Gram kernel), every MLP activation in float32 and float64, SGD with
# Nesterov momentum, AdamW, predictions. Usage: targets_run.sh PARAFIT OUT_DIR (run once per
# target by targets.sh, with PARAFIT_SIMD_TARGET set). Outputs are masked like the golden ones.
set -euo pipefail
parafit=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
golden=$here/../golden
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fit() {  # fit NAME ARGS...: the summary and the JSON
  local name=$1
  shift
  "$parafit" fit "$@" --json "$out/$name.json" > "$out/$name.txt" 2>&1 || echo "exit $?" >> "$out/$name.txt"
}
train() {  # train NAME ARGS...: the JSON and the saved model
  local name=$1
  shift
  "$parafit" train "$@" --json "$out/$name.json" --save "$out/$name.model" > /dev/null 2>&1 || echo "exit $?" > "$out/$name.exit"
}

"$parafit" gen --model gauss --params a=3,mu=1,s=0.7,c=0.2 --x-range -2:4 --rows 2001 --noise 0.02 --seed 3 --out gauss.csv
"$parafit" gen --model logistic4 --params a=1,b=2,c=3,d=9 --x-range 0.1:20 --rows 1999 --noise 0.05 --seed 4 --out logistic.csv
"$parafit" gen --model gompertz --params a=5,b=3,c=0.8 --x-range 0:10 --rows 1003 --noise 0.03 --seed 5 --out gompertz.csv
"$parafit" gen --model power --params a=2,b=0.6 --x-range 0.5:30 --rows 1001 --noise 0.05 --seed 6 --out power.csv
"$parafit" gen --model log --params a=1,b=2 --x-range 0.5:30 --rows 1001 --noise 0.05 --seed 6 --out log.csv
"$parafit" gen --model asymptotic --params Asym=4,R0=1,lrc=-0.5 --x-range 0:12 --rows 997 --noise 0.02 --seed 8 --out asym.csv
"$parafit" gen --model michaelis-menten --params vmax=2,km=0.5 --x-range 0:5 --rows 995 --noise 0.02 --seed 9 --out mm.csv
"$parafit" gen --model exp-growth --params a=0.5,b=0.3 --x-range 0:8 --rows 993 --noise 0.02 --seed 10 --out growth.csv
"$parafit" gen --model poly:5 --params b0=1,b1=-2,b2=0.5,b3=0.1,b4=-0.02,b5=0.001 --x-range -3:5 --rows 1005 --noise 0.1 --seed 11 --out poly.csv

fit gauss --data gauss.csv --model gauss --threads 2 --save "$out/gauss.model"
fit logistic --data logistic.csv --model logistic4 --threads 2
fit gompertz --data gompertz.csv --model gompertz
fit power --data power.csv --model power
fit log --data log.csv --model log
fit asym --data asym.csv --model asymptotic
fit mm --data mm.csv --model michaelis-menten
fit growth --data growth.csv --model exp-growth
fit poly5 --data poly.csv --model poly:5 --threads 2
# Formulas: every vectorised operation of the tape (+ - * / min max abs neg square exp) and the
# library calls around them (log, sqrt, pow, sin).
fit formula_gauss --data gauss.csv --model "a*exp(-((x - mu)/s)^2/2) + c" --start a=2,mu=0.5,s=1,c=0
fit formula_mix --data power.csv --model "a*log(x) + b*sqrt(x) + c*x/(1 + x) - abs(d)*min(x, 5) + max(x, 2)*g + sin(x)*f" \
  --start a=1,b=1,c=1,d=0.1,g=0.1,f=0.1
fit formula_pow --data power.csv --model "a*x^b + c" --start a=1,b=1,c=0

# Training: every activation, float32 and float64, the optimizers' update kernels.
mlp=(--data "$golden/input/mlp.csv" --threads 2 --epochs 2)
for act in tanh relu sigmoid gelu; do
  train "mlp_${act}_f32" "${mlp[@]}" --model mlp:19,13 --activation "$act"
  train "mlp_${act}_f64" "${mlp[@]}" --model mlp:19,13 --activation "$act" --precision float64
done
train mlp_nesterov "${mlp[@]}" --model mlp:16 --optimizer sgd --lr 0.05 --momentum 0.9 --nesterov --weight-decay 1e-4
train mlp_adamw "${mlp[@]}" --model mlp:33 --optimizer adamw
train mlp_sgd_plain "${mlp[@]}" --model mlp:16 --optimizer sgd --lr 0.05 --weight-decay 1e-3
train curve_gauss --data gauss.csv --model gauss --optimizer adam --lr 0.01 --epochs 3 --batch 64 --start a=2,mu=0.5,s=1,c=0

# Predictions (with standard errors for the fitted curve).
for m in gauss mlp_gelu_f32 mlp_sigmoid_f64; do
  data=gauss.csv
  [[ $m == mlp* ]] && data=$golden/input/mlp.csv
  "$parafit" predict --model-file "$out/$m.model" --data "$data" --out "$out/predict_$m.csv" > /dev/null 2>&1 \
    || echo "exit $?" > "$out/predict_$m.exit"
done

"$golden/normalize.sh" "$out"
