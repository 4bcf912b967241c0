// Voice recording with MediaRecorder, loaded only when someone records.
/** Recorder records one voice message from the microphone. */
export class Recorder {
  private rec: MediaRecorder | null = null;
  private chunks: Blob[] = [];
  private mic: MediaStream | null = null;
  startedAt = 0;

  async start(): Promise<void> {
    this.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'].find((t) => MediaRecorder.isTypeSupported(t));
    this.rec = new MediaRecorder(this.mic, type ? { mimeType: type } : undefined);
    this.chunks = [];
    this.rec.ondataavailable = (e) => {
      if (e.data.size > 0) this.chunks.push(e.data);
    };
    this.rec.start();
    this.startedAt = Date.now();
  }

  /** stop ends the recording and returns it (null when cancelled). */
  stop(keep = true): Promise<Blob | null> {
    const rec = this.rec;
    if (!rec) return Promise.resolve(null);
    return new Promise((resolve) => {
      rec.onstop = () => {
        this.mic?.getTracks().forEach((t) => t.stop());
        this.rec = null;
        resolve(keep ? new Blob(this.chunks, { type: rec.mimeType || 'audio/webm' }) : null);
      };
      rec.stop();
    });
  }
}
